// Package rest connects a service to a ministry's own system over a JSON API:
// each of our operations becomes an HTTP GET or POST whose JSON answer is
// mapped onto the operation's result. See backend.Config for the settings.
package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/adapters/backend"
	"github.com/guichet/guichet/menus"
)

// sep cuts field names and answer paths into segments.
const sep = "."

// Connector calls one REST backend. It is safe for concurrent use.
type Connector struct {
	cfg    backend.Config
	client *http.Client
	run    *backend.Runner
}

// New returns a connector for cfg, which must be of type "rest". It uses
// client if it is not nil (cfg.TLS must then be empty); otherwise it builds
// one, loading the TLS files, and fails if they are missing or unusable.
func New(cfg backend.Config, client *http.Client) (*Connector, error) {
	c, err := backend.NewConn(cfg, backend.REST, client)
	if err != nil {
		return nil, err
	}
	return &Connector{cfg: c.Cfg, client: c.Client, run: c.Run}, nil
}

// Breaker returns the connector's circuit breaker, for health checks.
func (c *Connector) Breaker() *backend.Breaker { return c.run.Breaker() }

// request is a call's HTTP request, made once and sent at each attempt.
type request struct {
	method string
	url    string
	body   []byte // nil for a GET
	key    string // the idempotency key, for a POST
}

// Do makes call on the backend. Domain failures are *guichet.Error values in
// the returned error's chain: the backend's refusals mapped by the
// operation's Errors or the HTTP status (404 not found, 409 conflict, 400
// and 422 invalid), and EUNAVAILABLE, naming the backend, when it cannot be
// reached in time or answers something unusable.
func (c *Connector) Do(ctx context.Context, call menus.Call) (menus.Result, error) {
	op, ok := c.cfg.Operations[call.Op]
	if !ok {
		return menus.Result{}, fmt.Errorf("rest backend %s: no operation %q", c.cfg.Name, call.Op)
	}
	vars := backend.Vars(call)
	req, err := c.request(op, vars, call.Key)
	if err != nil {
		return menus.Result{}, fmt.Errorf("rest backend %s: preparing %s: %w", c.cfg.Name, call.Op, err)
	}
	repeatable := op.Idempotent || op.Method == http.MethodGet || c.cfg.Idempotency.Honoured && call.Key != ""
	return c.run.Run(ctx, call.Op, repeatable, func(ctx context.Context) (menus.Result, error) {
		return c.attempt(ctx, op, vars, req)
	})
}

// request builds the HTTP request of op from vars.
func (c *Connector) request(op backend.Operation, vars map[string]string, key string) (request, error) {
	path, err := backend.Expand(op.Path, vars, url.PathEscape)
	if err != nil {
		return request{}, fmt.Errorf("path: %w", err)
	}
	fields, err := op.Fields(vars, sep)
	if err != nil {
		return request{}, err
	}
	req := request{method: op.Method, url: strings.TrimRight(c.cfg.Endpoint, "/") + path}
	if op.Method == http.MethodGet {
		q := url.Values{}
		for _, f := range fields {
			q.Set(strings.Join(f.Path, sep), f.Value)
		}
		if len(q) > 0 {
			req.url += "?" + q.Encode()
		}
		return req, nil
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false) // the body goes to an API, not into a web page
	if err := enc.Encode(object(fields)); err != nil {
		return request{}, fmt.Errorf("encoding the body: %w", err)
	}
	req.body, req.key = body.Bytes(), key
	return req, nil
}

// object nests fields into a JSON object: "applicant.phone" sets the field
// phone of the object applicant.
func object(fields []backend.Field) map[string]any {
	root := map[string]any{}
	for _, f := range fields {
		m := root
		for _, seg := range f.Path[:len(f.Path)-1] {
			sub, ok := m[seg].(map[string]any)
			if !ok {
				sub = map[string]any{}
				m[seg] = sub
			}
			m = sub
		}
		m[f.Path[len(f.Path)-1]] = f.Value
	}
	return root
}

// attempt sends req once and maps the answer.
func (c *Connector) attempt(ctx context.Context, op backend.Operation, vars map[string]string, r request) (menus.Result, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return menus.Result{}, fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "guichet")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.key != "" {
		req.Header.Set(c.cfg.Idempotency.Header, r.key)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return menus.Result{}, backend.Transport(err)
	}
	raw, err := backend.ReadBody(resp)
	if err != nil {
		return menus.Result{}, err
	}

	// The answer's JSON, if it is JSON: error bodies may carry a code.
	var doc document
	var docErr error
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
	if isJSON {
		doc, docErr = parse(raw)
	}
	var theirs string
	if docErr == nil && doc.v != nil && c.cfg.ErrorCode != "" {
		theirs, _ = doc.Value(c.cfg.ErrorCode)
	}

	status := strconv.Itoa(resp.StatusCode)
	cause := fmt.Errorf("HTTP %s", resp.Status)
	if theirs != "" {
		cause = fmt.Errorf("HTTP %s, error code %s", resp.Status, theirs)
	}
	if resp.StatusCode/100 != 2 {
		if ours, code, ok := op.MapError(theirs, status); ok {
			return menus.Result{}, backend.Refuse(c.cfg.Name, ours, label(code, status), cause)
		}
		switch resp.StatusCode {
		case http.StatusNotFound, http.StatusGone:
			return menus.Result{}, backend.Refuse(c.cfg.Name, guichet.ENOTFOUND, label(theirs, status), cause)
		case http.StatusConflict:
			return menus.Result{}, backend.Refuse(c.cfg.Name, guichet.ECONFLICT, label(theirs, status), cause)
		case http.StatusBadRequest, http.StatusUnprocessableEntity:
			return menus.Result{}, backend.Refuse(c.cfg.Name, guichet.EINVALID, label(theirs, status), cause)
		}
		return menus.Result{}, backend.Status(resp)
	}

	// A success, unless its body carries a code that Errors maps.
	if ours, code, ok := op.MapError(theirs); ok {
		return menus.Result{}, backend.Refuse(c.cfg.Name, ours, code, cause)
	}
	if len(op.Response) == 0 && op.Options == nil {
		return menus.Result{}, nil // nothing to read
	}
	switch {
	case len(raw) == 0:
		return menus.Result{}, backend.Broken(nil, "empty answer (HTTP %s)", resp.Status)
	case !isJSON:
		return menus.Result{}, backend.Broken(nil, "answer is %q, not JSON", orNone(mt))
	case docErr != nil:
		return menus.Result{}, backend.Broken(docErr, "answer is not valid JSON")
	}
	return op.Map(doc, vars)
}

// label names the backend's code for a message: "HTTP 404" for a status.
func label(code, status string) string {
	if code == "" || code == status {
		return "HTTP " + status
	}
	return code
}

func orNone(mt string) string {
	if mt == "" {
		return "no content type"
	}
	return mt
}

// document is a JSON answer, whose values are found by dotted paths:
// "data.reference" is the field reference of the object data, "items.0.id"
// the field id of the first element of the array items. It implements
// backend.Document.
type document struct {
	v any // as decoded with UseNumber; nil for JSON null or no document
}

// parse decodes one JSON value from b.
func parse(b []byte) (document, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return document{}, fmt.Errorf("decoding JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return document{}, errors.New("decoding JSON: data after the value")
	}
	return document{v: v}, nil
}

// Value returns the string, number or boolean at path as text (JSON null as
// ""), and false if there is nothing at path or an object or array.
func (d document) Value(path string) (string, bool) {
	v, ok := lookup(d.v, path)
	if !ok {
		return "", false
	}
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	case nil:
		return "", true
	}
	return "", false
}

// Items returns the elements of the array at path ("" for the answer
// itself), and false if there is no array there.
func (d document) Items(path string) ([]backend.Document, bool) {
	v, ok := lookup(d.v, path)
	if !ok {
		return nil, false
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, false
	}
	items := make([]backend.Document, len(arr))
	for i, e := range arr {
		items[i] = document{v: e}
	}
	return items, true
}

// lookup follows path from v: a segment names a field of an object, or
// indexes an array.
func lookup(v any, path string) (any, bool) {
	if path == "" {
		return v, true
	}
	for seg := range strings.SplitSeq(path, sep) {
		switch t := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = t[seg]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(t) || seg != strconv.Itoa(i) {
				return nil, false
			}
			v = t[i]
		default:
			return nil, false
		}
	}
	return v, true
}
