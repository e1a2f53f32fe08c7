package presets

import (
	"encoding/json"
	"fmt"
)

// policy is an IAM policy document. Fields are in the order IAM documents
// conventionally use, and json.Marshal sorts condition maps, so a document
// renders to the same text every time (a stable diff in `pulumi preview`).
type policy struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"Statement"`
}

type statement struct {
	Sid       string                         `json:"Sid,omitempty"`
	Effect    string                         `json:"Effect"`
	Action    []string                       `json:"Action"`
	Resource  []string                       `json:"Resource"`
	Condition map[string]map[string][]string `json:"Condition,omitempty"`
}

func allow(sid string, actions, resources []string) statement {
	return statement{Sid: sid, Effect: "Allow", Action: actions, Resource: resources}
}

func (s statement) when(operator, key string, values ...string) statement {
	if s.Condition == nil {
		s.Condition = map[string]map[string][]string{}
	}
	if s.Condition[operator] == nil {
		s.Condition[operator] = map[string][]string{}
	}
	s.Condition[operator][key] = values
	return s
}

func document(statements ...statement) policy {
	return policy{Version: "2012-10-17", Statement: statements}
}

func (p policy) json() (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encode policy: %w", err)
	}
	return string(b), nil
}

// objectsIn turns bucket ARNs into the ARNs of every object in them.
func objectsIn(bucketArns []string) []string {
	out := make([]string, len(bucketArns))
	for i, b := range bucketArns {
		out[i] = b + "/*"
	}
	return out
}
