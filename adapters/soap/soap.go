// Package soap connects a service to a ministry's own system over SOAP 1.1 or
// 1.2: each of our operations becomes a document/literal request whose
// answer, read by local names whatever its namespaces, is mapped onto the
// operation's result, and whose faults map onto our error codes. See
// backend.Config for the settings.
package soap

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/adapters/backend"
	"github.com/guichet/guichet/menus"
)

// Connector calls one SOAP backend. It is safe for concurrent use.
type Connector struct {
	cfg    backend.Config
	client *http.Client
	run    *backend.Runner
}

// New returns a connector for cfg, which must be of type "soap". It uses
// client if it is not nil (cfg.TLS must then be empty); otherwise it builds
// one, loading the TLS files, and fails if they are missing or unusable.
func New(cfg backend.Config, client *http.Client) (*Connector, error) {
	c, err := backend.NewConn(cfg, backend.SOAP, client)
	if err != nil {
		return nil, err
	}
	return &Connector{cfg: c.Cfg, client: c.Client, run: c.Run}, nil
}

// Breaker returns the connector's circuit breaker, for health checks.
func (c *Connector) Breaker() *backend.Breaker { return c.run.Breaker() }

// Do makes call on the backend. Domain failures are *guichet.Error values in
// the returned error's chain: faults mapped by the operation's Errors, or
// else by their class (Client or Sender: invalid; Server or Receiver:
// unavailable, retried when that is safe), and EUNAVAILABLE, naming the
// backend, when it cannot be reached in time or answers something unusable.
func (c *Connector) Do(ctx context.Context, call menus.Call) (menus.Result, error) {
	op, ok := c.cfg.Operations[call.Op]
	if !ok {
		return menus.Result{}, fmt.Errorf("soap backend %s: no operation %q", c.cfg.Name, call.Op)
	}
	vars := backend.Vars(call)
	fields, err := op.Fields(vars, "/")
	if err != nil {
		return menus.Result{}, fmt.Errorf("soap backend %s: preparing %s: %w", c.cfg.Name, call.Op, err)
	}
	idem := c.cfg.Idempotency
	var hdr header
	if idem.Element != "" && call.Key != "" {
		hdr = header{name: idem.Element, namespace: idem.Namespace, value: call.Key}
	}
	body, err := envelope(c.cfg.Version, hdr, op.Element, op.Namespace, fields)
	if err != nil {
		return menus.Result{}, fmt.Errorf("soap backend %s: preparing %s: %w", c.cfg.Name, call.Op, err)
	}
	repeatable := op.Idempotent || idem.Honoured && call.Key != ""
	return c.run.Run(ctx, call.Op, repeatable, func(ctx context.Context) (menus.Result, error) {
		return c.attempt(ctx, op, vars, body, call.Key)
	})
}

// attempt posts the envelope once and maps the answer.
func (c *Connector) attempt(ctx context.Context, op backend.Operation, vars map[string]string, body []byte, key string) (menus.Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.Endpoint, bytes.NewReader(body))
	if err != nil {
		return menus.Result{}, fmt.Errorf("building the request: %w", err)
	}
	if c.cfg.Version == backend.SOAP12 {
		ct := "application/soap+xml; charset=utf-8"
		if op.Action != "" {
			ct += "; action=" + quote(op.Action)
		}
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Accept", "application/soap+xml, text/xml")
	} else {
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		req.Header.Set("SOAPAction", quote(op.Action))
		req.Header.Set("Accept", "text/xml, application/soap+xml")
	}
	req.Header.Set("User-Agent", "guichet")
	if h := c.cfg.Idempotency.Header; h != "" && key != "" {
		req.Header.Set(h, key)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return menus.Result{}, backend.Transport(err)
	}
	raw, err := backend.ReadBody(resp)
	if err != nil {
		return menus.Result{}, err
	}
	ok := resp.StatusCode/100 == 2
	if ok && len(raw) == 0 && len(op.Response) == 0 && op.Options == nil {
		return menus.Result{}, nil // a one-way operation, accepted
	}

	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	isXML := mt == "text/xml" || mt == "application/soap+xml" || mt == "application/xml"
	if !isXML {
		if !ok {
			return menus.Result{}, backend.Status(resp)
		}
		if mt == "" {
			mt = "no content type"
		}
		return menus.Result{}, backend.Broken(nil, "answer is %q, not XML", mt)
	}
	env, err := parse(raw)
	if err != nil {
		if !ok {
			return menus.Result{}, backend.Status(resp)
		}
		return menus.Result{}, backend.Broken(err, "answer is not a SOAP envelope")
	}
	if f, isFault := env.fault(); isFault {
		return menus.Result{}, c.mapFault(op, f)
	}
	if !ok {
		return menus.Result{}, backend.Status(resp)
	}
	return op.Map(env, vars)
}

// mapFault maps f by op's Errors, or else by its class.
func (c *Connector) mapFault(op backend.Operation, f *fault) error {
	if ours, code, ok := op.MapError(f.Codes(c.cfg.ErrorCode)...); ok {
		return backend.Refuse(c.cfg.Name, ours, code, f)
	}
	switch f.Class() {
	case "Client", "Sender":
		return backend.Refuse(c.cfg.Name, guichet.EINVALID, "fault "+local(f.Code), f)
	case "Server", "Receiver":
		return backend.Transient(f, "SOAP fault %s", local(f.Code))
	}
	return backend.Broken(f, "SOAP fault %s", local(f.Code))
}

// quote returns s as a quoted string of HTTP headers.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
