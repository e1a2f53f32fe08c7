package podrunner

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Node is what the runner's node provides to a container process in place
// of what the image, the container runtime and the pod network provide.
type Node struct {
	// Path is the container's PATH (the image's, with this machine's AWS
	// CLI first).
	Path string
	// AgentURL is where the agent stand-in listens (http://127.0.0.1:<port>),
	// standing in for EKS's link-local agent address.
	AgentURL string
	// AWSEndpoint is moto's URL, given to the container as AWS_ENDPOINT_URL:
	// AWS's endpoints resolve to moto on this node.
	AWSEndpoint string
}

// Mounts maps a container's mount paths to the host directories holding the
// volumes.
type Mounts map[string]string

// hostPath maps a container path under a mount to the host.
func (m Mounts) hostPath(p string) (string, bool) {
	// Longest mount first, so nested mounts win.
	paths := make([]string, 0, len(m))
	for mp := range m {
		paths = append(paths, mp)
	}
	slices.SortFunc(paths, func(a, b string) int { return len(b) - len(a) })
	for _, mp := range paths {
		clean := strings.TrimRight(mp, "/")
		if p == clean || strings.HasPrefix(p, clean+"/") {
			return m[mp] + strings.TrimPrefix(p, clean), true
		}
	}
	return "", false
}

// ContainerEnv is the environment of a container process on this node, as
// NAME=value strings in the order the kubelet would set them: PATH,
// HOSTNAME and HOME (the image's PATH with this machine's AWS CLI first; HOME
// is the pod's host directory, not the image's /root), then the container's env with $(VAR) references expanded and fieldRefs resolved,
// then AWS_ENDPOINT_URL. Two node facts are mapped in values: a path under a
// volume mount becomes the host path of the volume, and the agent's
// link-local URL becomes the agent stand-in's loopback URL.
func ContainerEnv(pod *Pod, c *Container, mounts Mounts, node Node, home string) ([]string, error) {
	agent, err := url.Parse(AgentURL)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	var order []string
	set := func(name, value string) {
		if _, seen := vars[name]; !seen {
			order = append(order, name)
		}
		vars[name] = value
	}
	set("PATH", node.Path)
	set("HOSTNAME", pod.Metadata.Name)
	set("HOME", home)
	for _, e := range c.Env {
		value := e.Value
		if len(e.ValueFrom) > 0 {
			if value, err = fieldRef(pod, e); err != nil {
				return nil, err
			}
		} else {
			value = Expand(value, vars)
		}
		if host, ok := mounts.hostPath(value); ok {
			value = host
		} else if strings.HasPrefix(value, "http://"+agent.Host+"/") {
			value = strings.TrimRight(node.AgentURL, "/") + strings.TrimPrefix(value, "http://"+agent.Host)
		}
		set(e.Name, value)
	}
	if _, ok := vars["AWS_ENDPOINT_URL"]; !ok && node.AWSEndpoint != "" {
		set("AWS_ENDPOINT_URL", node.AWSEndpoint)
	}
	env := make([]string, 0, len(order))
	for _, name := range order {
		env = append(env, name+"="+vars[name])
	}
	return env, nil
}

// fieldRef resolves the downward-API fields a pod commonly reads.
func fieldRef(pod *Pod, e EnvVar) (string, error) {
	var from struct {
		FieldRef *struct {
			FieldPath string `json:"fieldPath"`
		} `json:"fieldRef"`
	}
	if err := json.Unmarshal(e.ValueFrom, &from); err != nil || from.FieldRef == nil {
		return "", fmt.Errorf("env %s: only valueFrom.fieldRef is supported by this node stand-in, got %s", e.Name, e.ValueFrom)
	}
	switch from.FieldRef.FieldPath {
	case "metadata.name":
		return pod.Metadata.Name, nil
	case "metadata.namespace":
		return pod.Metadata.Namespace, nil
	case "metadata.uid":
		return pod.Metadata.UID, nil
	case "spec.serviceAccountName":
		return pod.serviceAccount(), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	}
	return "", fmt.Errorf("env %s: fieldRef %s is not supported by this node stand-in", e.Name, from.FieldRef.FieldPath)
}

// Expand applies Kubernetes' $(VAR) expansion, as the kubelet does to env
// values, command and args: $(NAME) becomes NAME's value when NAME is
// defined, and stays as written when it is not; $$ becomes $; any other $
// is kept. So a shell script given as an argument keeps $(cmd) and $((n))
// unless the name inside is a defined variable, and every $$ loses a $.
func Expand(s string, vars map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString("$(")
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// commandLine is the container's argv with $(VAR) references expanded from
// its environment, as the kubelet builds it; an empty command would mean the
// image's entrypoint, which does not exist here.
func commandLine(c *Container, env []string) ([]string, error) {
	if len(c.Command) == 0 {
		return nil, fmt.Errorf("container %s has no command; this node runs no images, so the image's entrypoint is unknown", c.Name)
	}
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	argv := make([]string, 0, len(c.Command)+len(c.Args))
	for _, a := range append(slices.Clone(c.Command), c.Args...) {
		argv = append(argv, Expand(a, vars))
	}
	return argv, nil
}
