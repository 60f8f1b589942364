package backend

import (
	"os"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// validREST returns a valid REST configuration for the tests to spoil.
func validREST() Config {
	return Config{
		Type:     REST,
		Endpoint: "https://api.etatcivil.example/v1",
		Operations: map[string]Operation{
			"cases.open": {
				Method:   "POST",
				Path:     "/applications",
				Request:  map[string]string{"applicant.phone": "{{phone}}", "office": "{{office}}"},
				Response: map[string]string{"ref": "data.reference"},
				Errors:   map[string]string{"DUPLICATE": "conflict"},
			},
			"offices.list": {
				Method:  "GET",
				Path:    "/offices",
				Options: &OptionsMapping{Path: "data", ID: "code", Label: "name_{{lang}}"},
			},
		},
	}
}

// validSOAP returns a valid SOAP configuration for the tests to spoil.
func validSOAP() Config {
	return Config{
		Type:        SOAP,
		Endpoint:    "https://ged.example/ws",
		Idempotency: Idempotency{Element: "RequestId", Namespace: "urn:common", Honoured: true},
		Operations: map[string]Operation{
			"cases.open": {
				Action:    "urn:ged#Deposer",
				Element:   "DeposerCourrier",
				Namespace: "urn:ged:v2",
				Order:     []string{"Objet", "Expediteur/Telephone"},
				Request:   map[string]string{"Objet": "{{subject}}", "Expediteur/Telephone": "{{phone}}"},
				Response:  map[string]string{"ref": "Body/DeposerCourrierResponse/Numero"},
			},
		},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		base  func() Config
		spoil func(c *Config)
		want  []string // substrings of the error; none for a valid config
	}{
		{"valid rest", validREST, func(c *Config) {}, nil},
		{"valid soap", validSOAP, func(c *Config) {}, nil},
		{"loopback http", validREST, func(c *Config) { c.Endpoint = "http://127.0.0.1:8080/v1" }, nil},
		{"no retries", validREST, func(c *Config) { c.Retries = new(0) }, nil},
		{"no type", validREST, func(c *Config) { c.Type = "" }, []string{`type is missing: want "rest" or "soap"`}},
		{"bad type", validREST, func(c *Config) { c.Type = "grpc" }, []string{`type "grpc": want "rest" or "soap"`}},
		{"no endpoint", validREST, func(c *Config) { c.Endpoint = "" }, []string{"endpoint is missing"}},
		{"plain http", validREST, func(c *Config) { c.Endpoint = "http://api.etatcivil.example" },
			[]string{"http is only allowed on the loopback interface; use https"}},
		{"ftp", validREST, func(c *Config) { c.Endpoint = "ftp://api.etatcivil.example" }, []string{"want https"}},
		{"query in endpoint", validREST, func(c *Config) { c.Endpoint = "https://h/v1?k=1" }, []string{"without user, query or fragment"}},
		{"negative timeout", validREST, func(c *Config) { c.Timeout = -time.Second }, []string{"timeout -1s is negative"}},
		{"too many retries", validREST, func(c *Config) { c.Retries = new(9) }, []string{"retries 9: want 0 to 5"}},
		{"negative breaker", validREST, func(c *Config) { c.Breaker = BreakerConfig{Failures: -1, Open: -time.Second} },
			[]string{"breaker.failures -1 is negative", "breaker.open -1s is negative"}},
		{"cert without key", validREST, func(c *Config) { c.TLS.CertFile = "a.pem" }, []string{"tls: cert_file and key_file go together"}},
		{"soap version", validSOAP, func(c *Config) { c.Version = "1.3" }, []string{`version "1.3": want "1.1" or "1.2"`}},
		{"rest version", validREST, func(c *Config) { c.Version = "1.1" }, []string{"version is for soap backends only"}},
		{"no operations", validREST, func(c *Config) { c.Operations = nil }, []string{"operations: none"}},
		{"bad method", validREST, func(c *Config) { setOp(c, "cases.open", func(op *Operation) { op.Method = "PUT" }) },
			[]string{`operations.cases.open: method "PUT": want GET or POST`}},
		{"relative path", validREST, func(c *Config) { setOp(c, "cases.open", func(op *Operation) { op.Path = "applications" }) },
			[]string{`operations.cases.open: path "applications" must start with /`}},
		{"query in path", validREST, func(c *Config) { setOp(c, "cases.open", func(op *Operation) { op.Path = "/a?b=1" }) },
			[]string{"no query or fragment"}},
		{"unclosed template", validREST, func(c *Config) { setOp(c, "cases.open", func(op *Operation) { op.Path = "/a/{{ref" }) },
			[]string{`operations.cases.open: path: "/a/{{ref": {{ without }}`}},
		{"bad template name", validREST, func(c *Config) { op(c, "cases.open").Request["x"] = "{{a b}}" },
			[]string{`request field "x": "{{a b}}": {{a b}} is not a variable name`}},
		{"empty path segment", validREST, func(c *Config) { op(c, "cases.open").Response["ref"] = "data..reference" },
			[]string{`response "ref": path "data..reference" has an empty segment`}},
		{"field and subfield", validREST, func(c *Config) { op(c, "cases.open").Request["applicant"] = "x" },
			[]string{`request fields "applicant" and "applicant.phone": one cannot hold a value and fields at once`}},
		{"unknown code", validREST, func(c *Config) { op(c, "cases.open").Errors["X"] = "gone" },
			[]string{`errors["X"] = "gone": want one of not_found, conflict, invalid, unavailable`}},
		{"options without id", validREST, func(c *Config) { op(c, "offices.list").Options.ID = "" },
			[]string{"operations.offices.list: options.id is missing"}},
		{"soap fields on rest", validREST, func(c *Config) { setOp(c, "cases.open", func(op *Operation) { op.Element = "X" }) },
			[]string{"action, element, namespace and order are for soap backends"}},
		{"rest idempotency element", validREST, func(c *Config) { c.Idempotency.Element = "Key" },
			[]string{"idempotency.element and namespace are for soap backends"}},
		{"soap no element", validSOAP, func(c *Config) { setOp(c, "cases.open", func(op *Operation) { op.Element = "" }) },
			[]string{"operations.cases.open: element is missing"}},
		{"soap bad element", validSOAP, func(c *Config) { setOp(c, "cases.open", func(op *Operation) { op.Element = "1x" }) },
			[]string{`element "1x" is not an XML name`}},
		{"soap bad field", validSOAP, func(c *Config) { op(c, "cases.open").Request["a b"] = "x" },
			[]string{`request field "a b": "a b" is not an XML name`}},
		{"soap order", validSOAP, func(c *Config) { setOp(c, "cases.open", func(op *Operation) { op.Order = append(op.Order, "Nope") }) },
			[]string{`order names "Nope", which is not a request field`}},
		{"soap rest fields", validSOAP, func(c *Config) { setOp(c, "cases.open", func(op *Operation) { op.Method = "POST" }) },
			[]string{"method and path are for rest backends"}},
		{"soap honoured nowhere", validSOAP, func(c *Config) { c.Idempotency = Idempotency{Honoured: true} },
			[]string{"idempotency.honoured needs idempotency.header or idempotency.element"}},
		{"soap options without path", validSOAP, func(c *Config) {
			setOp(c, "cases.open", func(op *Operation) { op.Options = &OptionsMapping{ID: "Code", Label: "Nom"} })
		}, []string{"options.path is missing"}},
		{"every mistake at once", validREST, func(c *Config) { c.Endpoint = ""; c.Timeout = -1 },
			[]string{"endpoint is missing", "timeout -1ns is negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.base()
			tt.spoil(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate: %v\nwant it to say %q", err, w)
				}
			}
		})
	}
}

// op returns a copy of c's operation name, with copies of its maps, stored
// back in c, so that a test may change it without touching the base's.
func op(c *Config, name string) *Operation {
	ops := make(map[string]Operation, len(c.Operations))
	for k, v := range c.Operations {
		v.Request = clone(v.Request)
		v.Response = clone(v.Response)
		v.Errors = clone(v.Errors)
		if v.Options != nil {
			o := *v.Options
			v.Options = &o
		}
		ops[k] = v
	}
	c.Operations = ops
	o := ops[name]
	return &o
}

// setOp changes c's operation name with change.
func setOp(c *Config, name string, change func(op *Operation)) {
	o := *op(c, name)
	change(&o)
	c.Operations[name] = o
}

func clone(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestWithDefaults(t *testing.T) {
	c := validSOAP().WithDefaults()
	if c.Name != "ged.example" || c.Version != SOAP11 || c.Timeout != DefaultTimeout || *c.Retries != DefaultRetries ||
		c.Backoff != DefaultBackoff || c.Breaker != (BreakerConfig{DefaultFailures, DefaultOpen}) || c.Idempotency.Header != "" {
		t.Errorf("soap defaults: %+v", c)
	}
	r := validREST()
	r.Retries = new(0)
	r = r.WithDefaults()
	if *r.Retries != 0 || r.Idempotency.Header != DefaultIdempotencyHeader || r.Version != "" {
		t.Errorf("rest defaults: retries %d, idempotency %+v, version %q", *r.Retries, r.Idempotency, r.Version)
	}
}

// TestExample decodes the worked example of the documentation, as the menus
// package will decode a service file's backend section.
func TestExample(t *testing.T) {
	raw, err := os.ReadFile("testdata/services.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var services map[string]struct {
		Backend Config `yaml:"backend"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&services); err != nil {
		t.Fatalf("decoding the example: %v", err)
	}
	if len(services) != 2 {
		t.Fatalf("%d services, want 2", len(services))
	}
	for name, s := range services {
		if err := s.Backend.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	rest := services["birth-certificate"].Backend
	if rest.Type != REST || rest.Timeout != 3*time.Second || rest.Retries == nil || *rest.Retries != 1 ||
		rest.Breaker.Open != 30*time.Second || rest.TLS.CAFile == "" || !rest.Idempotency.Honoured {
		t.Errorf("birth-certificate decoded as %+v", rest)
	}
	if got := rest.Operations["offices.list"].Options; got == nil || got.Label != "name_{{lang}}" {
		t.Errorf("offices.list options %+v", got)
	}
	soap := services["courrier"].Backend
	if soap.Type != SOAP || soap.Version != SOAP12 || soap.Idempotency.Element == "" ||
		len(soap.Operations["cases.open"].Order) == 0 || !soap.Operations["cases.track"].Idempotent {
		t.Errorf("courrier decoded as %+v", soap)
	}
}
