package ussdtest

import (
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/guichet/guichet/ussd"
	"github.com/guichet/guichet/ussd/wire"
)

// echo is the smallest dialect: {"session","phone","input"} in, {"text","end"}
// out, {"error"} on refusals.
type echo struct{}

func (echo) Name() string { return "echo" }

func (echo) Decode(r *http.Request) (ussd.Request, error) {
	var in struct{ Session, Phone, Input string }
	if err := wire.JSON(r, &in); err != nil {
		return ussd.Request{}, err
	}
	if err := wire.Required("session", in.Session, "phone", in.Phone); err != nil {
		return ussd.Request{}, err
	}
	return ussd.Request{SessionID: in.Session, Phone: in.Phone, Input: in.Input}, nil
}

func (echo) Encode(w http.ResponseWriter, req ussd.Request, rep ussd.Reply) {
	wire.WriteJSON(w, http.StatusOK, map[string]any{"text": rep.Text, "end": wire.Ends(req, rep)})
}

func (echo) EncodeError(w http.ResponseWriter, status int, msg string) {
	wire.WriteJSON(w, status, map[string]string{"error": msg})
}

func hop(phone, input string) string {
	return `{"session":"s1","phone":"` + phone + `","input":"` + input + `"}`
}

var template = Template{ContentType: "application/json", ReplyType: "application/json; charset=utf-8", Hop: hop}

func TestRun(t *testing.T) {
	Run(t, echo{}, []Case{
		{Label: "hop", Body: hop("677123456", "2"), ContentType: "application/json", Reply: ussd.Reply{Text: "ok", End: true},
			WantStatus: 200, WantBody: `{"end":true,"text":"ok"}` + "\n", WantContentType: "application/json; charset=utf-8",
			WantRequest: &ussd.Request{SessionID: "s1", Phone: Phone, Input: "2", Operator: "test", Dialect: "echo"}},
		{Label: "refusal", Body: `{"session":"s1"}`, ContentType: "application/json",
			WantStatus: 400, WantBody: `{"error":"missing field phone"}` + "\n", WantNoStep: true},
	})
	Run(t, echo{}, Common(echo{}, template))
}

// broken are cases that Run must fail, with what it must say.
var broken = map[string]struct {
	c    Case
	want string
}{
	"status": {Case{Body: hop(Phone, "1"), ContentType: "application/json", WantStatus: 400},
		"status 200, want 400"},
	"no status": {Case{Body: hop(Phone, "1"), ContentType: "application/json"},
		"the case sets no WantStatus"},
	"body": {Case{Body: hop(Phone, "1"), ContentType: "application/json", WantStatus: 200, WantBody: "{}"},
		`want "{}"`},
	"substring": {Case{Body: hop(Phone, "1"), ContentType: "application/json", WantStatus: 200,
		WantBodyContains: []string{`"end":true`}}, `does not contain "\"end\":true"`},
	"content type": {Case{Body: hop(Phone, "1"), ContentType: "application/json", WantStatus: 200,
		WantContentType: "text/plain"}, `Content-Type "application/json; charset=utf-8", want "text/plain"`},
	"stepped": {Case{Body: hop(Phone, "1"), ContentType: "application/json", WantStatus: 200, WantNoStep: true},
		"want no step"},
	"not stepped": {Case{Body: `{"session":"s1"}`, ContentType: "application/json", WantStatus: 400},
		"the handler stepped 0 times, want once"},
	"request": {Case{Body: hop(Phone, "1"), ContentType: "application/json", WantStatus: 200,
		WantRequest: &ussd.Request{SessionID: "s1", Phone: Phone, Input: "2", Operator: "test", Dialect: "echo"}},
		`Input: got "1", want "2"`},
	"credential": {Case{Body: hop(Phone, "1"), ContentType: "application/json", Header: map[string]string{"X-Api-Key": ""},
		WantStatus: 200}, "status 401, want 200"},
}

// TestBroken runs one broken case when TestRunFails asks for it.
func TestBroken(t *testing.T) {
	name := os.Getenv("USSDTEST_BROKEN")
	if name == "" {
		return // only TestRunFails runs it, in a subprocess that names the case
	}
	c := broken[name].c
	c.Label = name
	Run(t, echo{}, []Case{c})
}

// TestRunFails checks that Run fails each broken case, and says why.
func TestRunFails(t *testing.T) {
	for name, b := range broken {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBroken$", "-test.v")
			cmd.Env = append(os.Environ(), "USSDTEST_BROKEN="+name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("Run passed the broken case:\n%s", out)
			}
			if !strings.Contains(string(out), b.want) {
				t.Errorf("Run failed without saying %q:\n%s", b.want, out)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	a := ussd.Request{Kind: ussd.Begin, SessionID: "s1", Cumulative: true}
	if d := Diff(a, a); d != "" {
		t.Errorf("Diff of equal requests = %q", d)
	}
	b := a
	b.Kind, b.SessionID, b.Cumulative = ussd.Continue, "s2", false
	want := "  Kind: got begin, want continue\n  SessionID: got \"s1\", want \"s2\"\n  Cumulative: got true, want false\n"
	if d := Diff(a, b); d != want {
		t.Errorf("Diff = %q, want %q", d, want)
	}
}
