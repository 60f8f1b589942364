package loadgen_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	. "github.com/guichet/guichet/loadgen"
	"github.com/guichet/guichet/ussd"
	"github.com/guichet/guichet/ussd/africastalking"
	"github.com/guichet/guichet/ussd/arkesel"
	"github.com/guichet/guichet/ussd/generic"
	"github.com/guichet/guichet/ussd/hubtel"
	"github.com/guichet/guichet/ussd/madapi"
	"github.com/guichet/guichet/ussd/nalo"
)

// TestDialectsAgreeWithTheGateway writes hops with each of the generator's
// dialects and reads them with the gateway's own (ussd/<dialect>), then
// reads the gateway's replies back: a generator that spoke a dialect
// differently from the gateway would measure refusals.
func TestDialectsAgreeWithTheGateway(t *testing.T) {
	gateway := map[string]ussd.Dialect{
		"africastalking": africastalking.Dialect{}, "madapi": madapi.Dialect{}, "hubtel": hubtel.Dialect{},
		"generic": generic.Dialect{}, "nalo": nalo.Dialect{UserID: "g"}, "arkesel": arkesel.Dialect{UserID: "g"},
	}
	if got, want := DialectNames(), len(gateway); len(got) != want {
		t.Fatalf("the generator speaks %v; the test knows %d dialects", got, want)
	}
	dial := Sent{Session: "s1", Phone: "+237677010001", Code: "*123*4*10000048#"}
	next := Sent{Session: "s1", Phone: "+237677010001", Code: "*123#", Seq: 2, Input: "Awa*Njoya", Text: "2*Awa*Njoya"}
	for _, name := range DialectNames() {
		t.Run(name, func(t *testing.T) {
			ours, theirs := Dialects[name], gateway[name]
			if ours.Name() != theirs.Name() {
				t.Fatalf("name %q, the gateway's %q", ours.Name(), theirs.Name())
			}
			got := decode(t, theirs, ours, dial)
			// Africa's Talking marks no first hop: its text is empty.
			if begins := got.Kind == ussd.Begin || got.Cumulative && got.Kind == ussd.Continue; !begins || got.SessionID != "s1" || got.ServiceCode != dial.Code || got.Input != "" || got.History != "" {
				t.Errorf("the dial read as %+v", got)
			}
			if !bytes.HasSuffix([]byte(got.Phone), []byte("237677010001")) {
				t.Errorf("the dial's phone read as %q", got.Phone)
			}
			got = decode(t, theirs, ours, next)
			if got.Kind != ussd.Continue || got.SessionID != "s1" {
				t.Errorf("an input read as %+v", got)
			}
			// The engine takes Input, or derives it from History on the
			// cumulative dialect.
			if in := got.Input; got.Cumulative && got.History != next.Text || !got.Cumulative && in != next.Input {
				t.Errorf("the input %q read as %+v", next.Input, got)
			}
			for _, rep := range []ussd.Reply{{Text: "Nom complet ?\n0 Retour"}, {Text: "Dossier 10000048 reçu.", End: true}} {
				w := httptest.NewRecorder()
				theirs.Encode(w, got, rep)
				if w.Code != http.StatusOK {
					t.Fatalf("the gateway encoded %+v with status %d", rep, w.Code)
				}
				screen, end, err := ours.Read(w.Body.Bytes())
				if err != nil || screen != rep.Text || end != rep.End {
					t.Errorf("read %q as %q end=%v, %v; want %q end=%v", w.Body, screen, end, err, rep.Text, rep.End)
				}
			}
		})
	}
}

func decode(t *testing.T, theirs ussd.Dialect, ours Dialect, h Sent) ussd.Request {
	t.Helper()
	body, media := ours.Write(h)
	r := httptest.NewRequest(http.MethodPost, "/ussd/x", bytes.NewReader(body))
	r.Header.Set("Content-Type", media)
	req, err := theirs.Decode(r)
	if err != nil {
		t.Fatalf("the gateway refused %s: %v", body, err)
	}
	return req
}
