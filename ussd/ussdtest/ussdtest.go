// Package ussdtest runs a dialect's fixture cases through the real
// ussd.Handler, with a fake stepper in place of the engine, as courier's
// handlertest runs its channel handlers.
package ussdtest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/guichet/guichet/ussd"
)

// Credential is the credential of the test operator; every case sends it as
// an x-api-key header unless its Header sets X-Api-Key (to "" for none).
const Credential = "s3cret"

// Region is the test operator's region: Cameroon.
const Region = "CM"

// Case is one request sent to a dialect through the handler, and what must
// come of it.
type Case struct {
	Label string
	// Body is the request body, or BodyFile its file under testdata/.
	Body        string
	BodyFile    string
	ContentType string
	Method      string            // POST if empty
	Header      map[string]string // extra headers; X-Api-Key: "" removes the credential
	Notice      bool              // send to the operator's end-of-session URL

	Reply   ussd.Reply // what the fake stepper answers
	StepErr error      // or the error it returns

	WantStatus       int
	WantBody         string   // the exact body, if set
	WantBodyContains []string // substrings of the body
	WantContentType  string   // the exact Content-Type, if set
	// WantRequest is the request the stepper must receive, after the
	// handler's Normalize.
	WantRequest *ussd.Request
	// WantNoStep says the handler must refuse the request before the step;
	// otherwise it must step exactly once.
	WantNoStep bool
}

// Stepper is a fake engine: it records the requests and answers Reply/Err.
type Stepper struct {
	Reply ussd.Reply
	Err   error

	mu   sync.Mutex
	reqs []ussd.Request
}

var _ ussd.Stepper = (*Stepper)(nil)

func (s *Stepper) Step(_ context.Context, req ussd.Request) (ussd.Reply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, req)
	return s.Reply, s.Err
}

// Requests returns the requests stepped so far.
func (s *Stepper) Requests() []ussd.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ussd.Request(nil), s.reqs...)
}

// Handler returns the handler Run sends its cases to: operator "test", with
// the Credential and Region above.
func Handler(d ussd.Dialect, step ussd.Stepper, notice bool) *ussd.Handler {
	return &ussd.Handler{
		Op:     ussd.Operator{Name: "test", Dialect: d, Credential: Credential, Region: Region},
		Step:   step,
		Log:    slog.New(slog.DiscardHandler),
		Notice: notice,
	}
}

// Run sends each case through a ussd.Handler serving dialect d, as a subtest.
func Run(t *testing.T, d ussd.Dialect, cases []Case) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.Label] {
			t.Fatalf("two cases are labelled %q", c.Label)
		}
		seen[c.Label] = true
		t.Run(c.Label, func(t *testing.T) { run(t, d, c) })
	}
}

func run(t *testing.T, d ussd.Dialect, c Case) {
	if c.WantStatus == 0 {
		t.Fatal("the case sets no WantStatus")
	}
	if c.WantNoStep && c.WantRequest != nil {
		t.Fatal("the case sets both WantNoStep and WantRequest")
	}
	body := c.Body
	if c.BodyFile != "" {
		b, err := os.ReadFile(filepath.Join("testdata", c.BodyFile))
		if err != nil {
			t.Fatal(err)
		}
		body = string(b)
	}
	method := c.Method
	if method == "" {
		method = http.MethodPost
	}
	path := "/ussd/test"
	if c.Notice {
		path += "/end"
	}
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if c.ContentType != "" {
		r.Header.Set("Content-Type", c.ContentType)
	}
	r.Header.Set("X-Api-Key", Credential)
	for k, v := range c.Header {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}

	step := &Stepper{Reply: c.Reply, Err: c.StepErr}
	w := httptest.NewRecorder()
	Handler(d, step, c.Notice).ServeHTTP(w, r)

	got := w.Body.String()
	if w.Code != c.WantStatus {
		t.Errorf("status %d, want %d; body %q", w.Code, c.WantStatus, got)
	}
	if c.WantBody != "" && got != c.WantBody {
		t.Errorf("body\n got %q\nwant %q", got, c.WantBody)
	}
	for _, s := range c.WantBodyContains {
		if !strings.Contains(got, s) {
			t.Errorf("body %q does not contain %q", got, s)
		}
	}
	if ct := w.Header().Get("Content-Type"); c.WantContentType != "" && ct != c.WantContentType {
		t.Errorf("Content-Type %q, want %q", ct, c.WantContentType)
	}

	reqs := step.Requests()
	switch {
	case c.WantNoStep && len(reqs) > 0:
		t.Errorf("the handler stepped %+v, want no step", reqs[0])
	case !c.WantNoStep && len(reqs) != 1:
		t.Errorf("the handler stepped %d times, want once", len(reqs))
	case c.WantRequest != nil:
		if diff := Diff(reqs[0], *c.WantRequest); diff != "" {
			t.Errorf("stepped request differs:\n%s", diff)
		}
	}
}

// Diff lists the fields where got and want differ, one a line.
func Diff(got, want ussd.Request) string {
	var b strings.Builder
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		if reflect.DeepEqual(g, w) {
			continue
		}
		format := "  %s: got %v, want %v\n"
		if gv.Field(i).Kind() == reflect.String {
			format = "  %s: got %q, want %q\n"
		}
		fmt.Fprintf(&b, format, gv.Type().Field(i).Name, g, w)
	}
	return b.String()
}
