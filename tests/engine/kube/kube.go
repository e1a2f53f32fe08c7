// Package kube is TEST EQUIPMENT for the engine tier: a minimal client of
// the loopback kube-apiserver (plain REST over HTTPS with the admin bearer
// token), enough for the node stand-in in ../podrunner and ../agent. It
// avoids client-go on purpose: the few calls below do not justify compiling
// it into the tier.
package kube

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// Client talks to one apiserver as one bearer-token user.
type Client struct {
	base  string
	token string
	http  *http.Client
	// watch has no overall timeout: a watch stays open for minutes.
	watch *http.Client
}

// New returns a client for the apiserver at endpoint, trusting the PEM CA in
// caFile and sending the token in tokenFile.
func New(endpoint, caFile, tokenFile string) (*Client, error) {
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read apiserver CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("no PEM certificate in %s", caFile)
	}
	token, err := os.ReadFile(tokenFile)
	if err != nil {
		return nil, fmt.Errorf("read apiserver token: %w", err)
	}
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	return &Client{
		base:  strings.TrimRight(endpoint, "/"),
		token: strings.TrimSpace(string(token)),
		http:  &http.Client{Transport: transport, Timeout: 30 * time.Second},
		watch: &http.Client{Transport: transport},
	}, nil
}

// StatusError is a non-2xx answer of the apiserver.
type StatusError struct {
	Code    int
	Method  string
	Path    string
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Code, e.Message)
}

// IsNotFound tells whether err is the apiserver's 404.
func IsNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusNotFound
}

// IsConflict tells whether err is the apiserver's 409 (already exists, or a
// stale resourceVersion).
func IsConflict(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusConflict
}

// Do sends body (JSON-encoded unless it is []byte) with the given content
// type and decodes a JSON answer into out (nil: discarded).
func (c *Client) Do(ctx context.Context, method, path, contentType string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(body); err != nil {
				return fmt.Errorf("encode %s %s: %w", method, path, err)
			}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		if contentType == "" {
			contentType = "application/json"
		}
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var st struct {
			Message string `json:"message"`
		}
		msg := strings.TrimSpace(string(data))
		if json.Unmarshal(data, &st) == nil && st.Message != "" {
			msg = st.Message
		}
		return &StatusError{Code: resp.StatusCode, Method: method, Path: path, Message: msg}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// Get decodes the object at path into out.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	return c.Do(ctx, http.MethodGet, path, "", nil, out)
}

// Create POSTs obj to the collection at path.
func (c *Client) Create(ctx context.Context, path string, obj, out any) error {
	return c.Do(ctx, http.MethodPost, path, "", obj, out)
}

// MergePatch applies a JSON merge patch (RFC 7386) to the object at path.
func (c *Client) MergePatch(ctx context.Context, path string, patch, out any) error {
	return c.Do(ctx, http.MethodPatch, path, "application/merge-patch+json", patch, out)
}

// Delete deletes the object at path; a missing object is not an error.
func (c *Client) Delete(ctx context.Context, path string) error {
	err := c.Do(ctx, http.MethodDelete, path, "", nil, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// Event is one watch event; Object is left raw for the caller to decode.
type Event struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

// Watch streams the events of the watch at path (which must carry
// watch=true and usually a resourceVersion) to fn until the server ends the
// watch, ctx ends, or fn fails.
func (c *Client) Watch(ctx context.Context, path string, fn func(Event) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.watch.Do(req)
	if err != nil {
		return fmt.Errorf("watch %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(resp.Body)
		return &StatusError{Code: resp.StatusCode, Method: "WATCH", Path: path, Message: strings.TrimSpace(string(data))}
	}
	dec := json.NewDecoder(resp.Body)
	for {
		var ev Event
		if err := dec.Decode(&ev); err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("watch %s: %w", path, err)
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
}
