package hotline_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/campaigns"
	"github.com/guichet/guichet/cases"
)

// A campaign to the citizens of a service, or to those whose cases of it
// are in a status; bad forms said next to their fields; operators may not
// run campaigns.
func TestCampaignFromAService(t *testing.T) {
	r := newRig(t)
	b := r.browser(t)
	b.mustSignIn("awa")
	if code, _, _ := b.get("/hotline/campaigns"); code != http.StatusForbidden {
		t.Errorf("an operator opened the campaigns: %d", code)
	}
	b = r.browser(t)
	b.mustSignIn("paul")
	b.get("/hotline/campaigns")
	form := url.Values{"name": {"Cartes prêtes"}, "text_fr": {"Votre carte est prête."}, "from": {"08:00"}, "to": {"20:00"},
		"service": {"business-licence"}, "status": {"ready"}, "rates": {"mtn=10, orange=5"}}
	code, _, loc := b.post("/hotline/campaigns", form)
	if code != http.StatusSeeOther || !strings.Contains(loc, "/hotline/campaigns/") {
		t.Fatalf("making a campaign to a service's citizens: %d %s", code, loc)
	}
	all, _ := r.cases.Cases(t.Context(), cases.CaseFilter{Services: []string{"business-licence"}, Status: "ready"})
	phones := map[string]bool{}
	for _, c := range all {
		phones[c.Phone] = true
	}
	camps, _ := r.campaigns.Campaigns(t.Context(), "*")
	p, err := r.campaigns.Progress(t.Context(), camps[0].ID)
	if err != nil || len(phones) == 0 || p.Audience != len(phones) {
		t.Errorf("audience %d, %v; want the %d citizens with a business licence ready", p.Audience, err, len(phones))
	}
	if r := camps[0].Rates; r["mtn"] != 10 || r["orange"] != 5 {
		t.Errorf("rates per operator %v, want mtn 10 and orange 5", r)
	}
	for _, bad := range []struct {
		field, value, id, says string
	}{
		{"from", "22:00", "from-err", "never at night"},
		{"status", "nosuch", "service-err", "Choose a service"},
		{"service", "", "audience-err", "Attach the file"},
		{"text_fr", strings.Repeat("Rendez-vous au centre de santé. ", 40), "text_fr-err", "Too long"},
		{"rates", "mtn=fast", "rates-err", "operator=SMS a second"},
	} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set(bad.field, bad.value)
		code, body, _ := b.post("/hotline/campaigns", f)
		if code != http.StatusBadRequest || !strings.Contains(body, `id="`+bad.id+`">`+"") || !strings.Contains(body, bad.says) {
			t.Errorf("%s=%q: %d, want 400 saying %q next to the field\n%s", bad.field, bad.value, code, bad.says, body)
		}
	}
}

// Only the campaign form may send a file: a multipart body elsewhere is
// not read, and refused.
func TestMultipartOnlyForCampaigns(t *testing.T) {
	r := newRig(t)
	b := r.browser(t)
	b.mustSignIn("paul")
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("csrf", b.csrf)
	w.WriteField("text", "hello")
	w.Close()
	resp, err := b.c.Post(r.srv.URL+"/hotline/callers/%2B237677000001/sms", w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a multipart body to the SMS form: %d, want 403", resp.StatusCode)
	}
}

// A campaign the gateway paused (its API key's day spent) says why on its
// page.
func TestCampaignPausedByTheGateway(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	c, err := r.campaigns.CreateCampaign(ctx, campaigns.Campaign{Owner: "civil-status", Name: "Cartes", Text: map[string]string{"fr": "Votre carte est prête."},
		From: campaigns.DefaultFrom, To: campaigns.DefaultTo, Key: "key_0123456789ab"}, []string{"+237677000001"})
	if err != nil {
		t.Fatal(err)
	}
	r.campaigns.SetState(ctx, c.ID, []string{campaigns.Draft}, campaigns.Running, time.Now())
	if _, err := r.campaigns.PauseFor(ctx, c.ID, "the day of key_0123456789ab is spent", time.Now()); err != nil {
		t.Fatal(err)
	}
	b := r.browser(t)
	b.mustSignIn("paul")
	code, body, _ := b.get("/hotline/campaigns/" + strconv.FormatInt(c.ID, 10))
	if code != http.StatusOK || !strings.Contains(body, `id="paused">`) || !strings.Contains(body, "the day of key_0123456789ab is spent") {
		t.Errorf("the campaign's page: %d, without why the gateway paused it\n%s", code, body)
	}
}
