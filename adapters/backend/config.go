// Package backend holds what the connectors to ministries' own systems share:
// their configuration, the circuit breaker, the retry loop, mutual TLS, and
// the templating and mapping of requests and answers. The connectors
// themselves live in adapters/rest and adapters/soap.
package backend

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/guichet/guichet"
)

// Connector types.
const (
	REST = "rest"
	SOAP = "soap"
)

// SOAP versions.
const (
	SOAP11 = "1.1"
	SOAP12 = "1.2"
)

// Defaults for the zero values of Config.
const (
	DefaultTimeout           = 3 * time.Second // USSD leaves about 5 s per screen
	DefaultRetries           = 1
	DefaultBackoff           = 100 * time.Millisecond
	DefaultFailures          = 5
	DefaultOpen              = 30 * time.Second
	DefaultIdempotencyHeader = "Idempotency-Key"
	DefaultSOAPVersion       = SOAP11
)

// Config is one service's backend: a ministry's own system that serves the
// service's operations instead of the native case store. The zero value of
// every optional field means its default.
type Config struct {
	Type string `yaml:"type"` // "rest" or "soap"
	// Name names the backend in messages ("civil-status registry"); the
	// endpoint's host by default.
	Name string `yaml:"name"`
	// Endpoint is the base URL (REST: operation paths are appended to it;
	// SOAP: every operation is posted to it). It must be https, except on
	// the loopback interface.
	Endpoint string `yaml:"endpoint"`
	// Version is the SOAP version, "1.1" (the default) or "1.2".
	Version string `yaml:"version"`
	// Timeout bounds each attempt; the caller's deadline bounds them all.
	Timeout time.Duration `yaml:"timeout"`
	// Retries is the number of extra attempts after a transient failure:
	// DefaultRetries if nil, none if 0.
	Retries *int `yaml:"retries"`
	// Backoff is the wait before the first retry; it doubles (with
	// jitter) before each later one.
	Backoff time.Duration `yaml:"backoff"`
	Breaker BreakerConfig `yaml:"breaker"`
	TLS     TLSConfig     `yaml:"tls"`
	// Idempotency says how the backend receives Call.Key.
	Idempotency Idempotency `yaml:"idempotency"`
	// ErrorCode is where the backend puts its own error code: a path in a
	// JSON error body (REST, "error.code"), or in a SOAP fault below Fault
	// ("detail/ErrorCode"). The Errors of each operation map these codes.
	ErrorCode string `yaml:"error_code"`
	// Operations maps our operation names ("cases.open") to the backend's.
	Operations map[string]Operation `yaml:"operations"`
	// Observer, if set, is told of each attempt (metrics); never in a
	// service file.
	Observer Observer `yaml:"-"`
}

// BreakerConfig sets the circuit breaker: after Failures consecutive failed
// attempts it opens and answers EUNAVAILABLE without calling the backend;
// after Open it lets one probe through, whose outcome closes it or opens it
// again.
type BreakerConfig struct {
	Failures int           `yaml:"failures"` // DefaultFailures if 0
	Open     time.Duration `yaml:"open"`     // DefaultOpen if 0
}

// TLSConfig sets up mutual TLS with the backend. All fields are optional: by
// default the system's roots verify the server and no client certificate is
// sent.
type TLSConfig struct {
	CertFile   string `yaml:"cert_file"`   // our client certificate (PEM), from the national PKI
	KeyFile    string `yaml:"key_file"`    // its private key (PEM)
	CAFile     string `yaml:"ca_file"`     // the CA bundle (PEM) that verifies the server, instead of the system's
	ServerName string `yaml:"server_name"` // the name to verify on the server's certificate, if not the endpoint's host
}

// Idempotency says how Call.Key reaches the backend and whether it honours it.
type Idempotency struct {
	// Header is the HTTP header that carries the key: "Idempotency-Key" by
	// default for REST; none by default for SOAP.
	Header string `yaml:"header"`
	// Element, for SOAP, is a SOAP header element that carries the key,
	// in Namespace.
	Element   string `yaml:"element"`
	Namespace string `yaml:"namespace"`
	// Honoured says that the backend answers a repeated key with the first
	// call's result without acting again: only then are operations that are
	// not Idempotent retried after a failure that may have reached it.
	Honoured bool `yaml:"honoured"`
}

// Operation maps one of our operations onto the backend's.
type Operation struct {
	// REST: the HTTP method (GET or POST) and the path below the endpoint,
	// with {{var}} templates whose values are URL-escaped.
	Method string `yaml:"method"`
	Path   string `yaml:"path"`

	// SOAP: the SOAPAction, the request's element and its namespace, and
	// the order of the request's fields where the schema imposes one
	// (fields not listed follow, sorted by name).
	Action    string   `yaml:"action"`
	Element   string   `yaml:"element"`
	Namespace string   `yaml:"namespace"`
	Order     []string `yaml:"order"`

	// Idempotent says that doing the operation twice does no more than
	// doing it once (a lookup), so that it may be retried after any
	// transient failure. REST GETs always are.
	Idempotent bool `yaml:"idempotent"`

	// Request maps the backend's fields to templates: "{{our_arg}}", a
	// constant, or both mixed. Templates draw on Call.Args and on phone,
	// lang, service, channel, op and key. A field name is a path: dotted
	// for REST ("applicant.phone" nests objects; for a GET, fields form the
	// query string), slashed for SOAP ("Applicant/Phone" nests elements).
	Request map[string]string `yaml:"request"`
	// Response maps our result variables to paths in the answer: dotted
	// JSON paths for REST ("data.reference", "items.0.id"), element local
	// names below the Envelope for SOAP ("Body/OpenCaseResponse/Reference").
	Response map[string]string `yaml:"response"`
	// Options, for a list operation, says where the list is.
	Options *OptionsMapping `yaml:"options"`
	// Errors maps the backend's error codes (from ErrorCode, a SOAP fault
	// code or subcode, or a REST HTTP status such as "404") to ours:
	// not_found, conflict, invalid or unavailable.
	Errors map[string]string `yaml:"errors"`
}

// OptionsMapping says where a list operation's options are in the answer.
type OptionsMapping struct {
	// Path leads to the list: a JSON array (REST; empty for an answer that
	// is the array), or the repeated element (SOAP,
	// "Body/ListOfficesResponse/Office").
	Path string `yaml:"path"`
	// ID and Label are paths within each item. Label may hold templates
	// ("name_{{lang}}").
	ID    string `yaml:"id"`
	Label string `yaml:"label"`
}

// WithDefaults returns c with every unset optional field set to its
// default.
func (c Config) WithDefaults() Config {
	if c.Name == "" {
		if u, err := url.Parse(c.Endpoint); err == nil && u.Hostname() != "" {
			c.Name = u.Hostname()
		} else {
			c.Name = c.Type + " backend"
		}
	}
	if c.Type == SOAP && c.Version == "" {
		c.Version = DefaultSOAPVersion
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Retries == nil {
		c.Retries = new(DefaultRetries)
	}
	if c.Backoff == 0 {
		c.Backoff = DefaultBackoff
	}
	if c.Breaker.Failures == 0 {
		c.Breaker.Failures = DefaultFailures
	}
	if c.Breaker.Open == 0 {
		c.Breaker.Open = DefaultOpen
	}
	if c.Type == REST && c.Idempotency.Header == "" {
		c.Idempotency.Header = DefaultIdempotencyHeader
	}
	return c
}

// ourCodes are the codes an Errors map may give.
var ourCodes = []string{guichet.ENOTFOUND, guichet.ECONFLICT, guichet.EINVALID, guichet.EUNAVAILABLE}

// Validate reports every mistake in c at once, each saying where it is. It
// reads no file: New loads the TLS files and reports them.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	switch c.Type {
	case REST:
	case SOAP:
		if c.Version != "" && c.Version != SOAP11 && c.Version != SOAP12 {
			bad("version %q: want %q or %q", c.Version, SOAP11, SOAP12)
		}
	case "":
		bad("type is missing: want %q or %q", REST, SOAP)
	default:
		bad("type %q: want %q or %q", c.Type, REST, SOAP)
	}
	if c.Type == REST && c.Version != "" {
		bad("version is for soap backends only")
	}
	if err := checkEndpoint(c.Endpoint); err != nil {
		errs = append(errs, err)
	}
	if c.Timeout < 0 {
		bad("timeout %v is negative", c.Timeout)
	}
	if c.Retries != nil && (*c.Retries < 0 || *c.Retries > 5) {
		bad("retries %d: want 0 to 5", *c.Retries)
	}
	if c.Backoff < 0 {
		bad("backoff %v is negative", c.Backoff)
	}
	if c.Breaker.Failures < 0 {
		bad("breaker.failures %d is negative", c.Breaker.Failures)
	}
	if c.Breaker.Open < 0 {
		bad("breaker.open %v is negative", c.Breaker.Open)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		bad("tls: cert_file and key_file go together")
	}
	idem := c.Idempotency
	switch c.Type {
	case REST:
		if idem.Element != "" || idem.Namespace != "" {
			bad("idempotency.element and namespace are for soap backends; rest uses idempotency.header")
		}
	case SOAP:
		if idem.Honoured && idem.Header == "" && idem.Element == "" {
			bad("idempotency.honoured needs idempotency.header or idempotency.element to send the key in")
		}
		if idem.Namespace != "" && idem.Element == "" {
			bad("idempotency.namespace without idempotency.element")
		}
	}
	sep := c.separator()
	if c.ErrorCode != "" {
		if err := checkPath(c.ErrorCode, sep); err != nil {
			bad("error_code: %v", err)
		}
	}
	if len(c.Operations) == 0 {
		bad("operations: none")
	}
	for _, name := range sortedKeys(c.Operations) {
		for _, err := range c.Operations[name].check(c.Type, sep) {
			bad("operations.%s: %v", name, err)
		}
	}
	return errors.Join(errs...)
}

// separator returns the path separator of c's type.
func (c Config) separator() string {
	if c.Type == SOAP {
		return "/"
	}
	return "."
}

// check returns the mistakes in op.
func (op Operation) check(typ, sep string) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch typ {
	case REST:
		switch op.Method {
		case "GET", "POST":
		case "":
			bad("method is missing: want GET or POST")
		default:
			bad("method %q: want GET or POST", op.Method)
		}
		if !strings.HasPrefix(op.Path, "/") {
			bad("path %q must start with /", op.Path)
		} else if strings.ContainsAny(op.Path, "?#") {
			bad("path %q: no query or fragment; a GET's request fields form the query", op.Path)
		} else if err := checkTemplate(op.Path); err != nil {
			bad("path: %v", err)
		}
		if op.Action != "" || op.Element != "" || op.Namespace != "" || len(op.Order) > 0 {
			bad("action, element, namespace and order are for soap backends")
		}
	case SOAP:
		if op.Element == "" {
			bad("element is missing")
		} else if !isXMLName(op.Element) {
			bad("element %q is not an XML name", op.Element)
		}
		if strings.ContainsFunc(op.Action, func(r rune) bool { return r < ' ' || r > '~' }) {
			bad("action %q: printable ASCII only", op.Action)
		}
		if op.Method != "" || op.Path != "" {
			bad("method and path are for rest backends")
		}
	}
	fields := sortedKeys(op.Request)
	for _, f := range fields {
		if err := checkPath(f, sep); err != nil {
			bad("request field %q: %v", f, err)
			continue
		}
		if typ == SOAP {
			for seg := range strings.SplitSeq(f, sep) {
				if !isXMLName(seg) {
					bad("request field %q: %q is not an XML name", f, seg)
				}
			}
		}
		if err := checkTemplate(op.Request[f]); err != nil {
			bad("request field %q: %v", f, err)
		}
		for _, g := range fields {
			if strings.HasPrefix(g, f+sep) {
				bad("request fields %q and %q: one cannot hold a value and fields at once", f, g)
			}
		}
	}
	for _, f := range op.Order {
		if _, ok := op.Request[f]; !ok {
			bad("order names %q, which is not a request field", f)
		}
	}
	for _, v := range sortedKeys(op.Response) {
		if err := checkPath(op.Response[v], sep); err != nil {
			bad("response %q: %v", v, err)
		}
	}
	if o := op.Options; o != nil {
		if o.Path == "" && typ == SOAP {
			bad("options.path is missing")
		} else if o.Path != "" {
			if err := checkPath(o.Path, sep); err != nil {
				bad("options.path: %v", err)
			}
		}
		for _, f := range []struct{ name, path string }{{"id", o.ID}, {"label", o.Label}} {
			if f.path == "" {
				bad("options.%s is missing", f.name)
			} else if err := checkPath(f.path, sep); err != nil {
				bad("options.%s: %v", f.name, err)
			} else if err := checkTemplate(f.path); err != nil {
				bad("options.%s: %v", f.name, err)
			}
		}
	}
	for _, theirs := range sortedKeys(op.Errors) {
		if ours := op.Errors[theirs]; !slices.Contains(ourCodes, ours) {
			bad("errors[%q] = %q: want one of %s", theirs, ours, strings.Join(ourCodes, ", "))
		}
	}
	return errs
}

// checkEndpoint requires an absolute https URL, or http on the loopback
// interface (for tests and local simulators).
func checkEndpoint(endpoint string) error {
	if endpoint == "" {
		return errors.New("endpoint is missing")
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("endpoint: %w", err)
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("endpoint %q: want scheme://host[:port][/path], without user, query or fragment", endpoint)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return fmt.Errorf("endpoint %q: http is only allowed on the loopback interface; use https", endpoint)
		}
	default:
		return fmt.Errorf("endpoint %q: want https", endpoint)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkPath requires a path whose segments are not empty.
func checkPath(path, sep string) error {
	if path == "" {
		return errors.New("empty path")
	}
	for seg := range strings.SplitSeq(path, sep) {
		if seg == "" {
			return fmt.Errorf("path %q has an empty segment", path)
		}
	}
	return nil
}

// isXMLName reports whether s is a plausible XML local name: a letter or
// underscore, then letters, digits, '_', '-' or '.'.
func isXMLName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (unicode.IsDigit(r) || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
