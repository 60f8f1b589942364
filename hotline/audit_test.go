package hotline_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/staff"
)

// auditedAs lists the entries about subject as "user action detail",
// newest first.
func (r *rig) auditedAs(t *testing.T, subject string) []string {
	t.Helper()
	es, err := r.store.AuditLog(t.Context(), staff.AuditFilter{Subject: subject})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, strings.TrimSpace(e.User+" "+e.Action+" "+e.Detail))
	}
	return got
}

// Every view of a caller's data is found by a search for their number:
// the callback queue and the home page's head of it (each number shown,
// in one entry a view), a case page (under its reference and its phone),
// and the audit log itself (who read it, with what filter).
func TestViewsAuditedUnderTheNumber(t *testing.T) {
	r := newRig(t)
	const p1, p2 = "+237677100011", "+237677100012"
	for _, p := range []string{p1, p2} {
		if _, err := r.console.Cases.Do(t.Context(), menus.Call{Op: "callback.request", Service: "covid", Phone: p, Lang: "fr",
			Channel: "ussd", Args: map[string]string{"reason": "covid-high-risk"}}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := r.console.Cases.Do(t.Context(), menus.Call{Op: "cases.open", Service: "birth-certificate", Phone: p1, Lang: "fr",
		Channel: "ussd", Args: map[string]string{"office": "douala-3", "name": "Ngo Bassa", "born": "01011990"}})
	if err != nil {
		t.Fatal(err)
	}
	ref := res.Vars["ref"]
	awa, paul := r.browser(t), r.browser(t)
	awa.mustSignIn("awa")
	paul.mustSignIn("paul")
	awa.get("/hotline/")
	awa.get("/hotline/callbacks")
	awa.get("/hotline/cases/" + ref)
	awa.get("/hotline/callers/" + url.PathEscape(p2))

	for _, p := range []string{p1, p2} {
		got := r.auditedAs(t, p)
		if !slices.Contains(got, "awa view.callbacks 2 open, 0 closed") || !slices.Contains(got, "awa view.callbacks 2 open (home)") {
			t.Errorf("the views of the queue under %s: %q", p, got)
		}
	}
	if got := r.auditedAs(t, p1); !slices.Contains(got, "awa view.case") {
		t.Errorf("the case's view under its phone: %q", got)
	}
	if got := r.auditedAs(t, ref); !slices.Contains(got, "awa view.case") {
		t.Errorf("the case's view under its reference: %q", got)
	}

	// paul reads what was seen of p1, typing the number as people do.
	if code, body, _ := paul.get("/hotline/audit?subject=" + url.QueryEscape("677 10 00 11")); code != 200 || !strings.Contains(body, "view.case") {
		t.Fatalf("the audit page: %d", code)
	}
	paul.get("/hotline/audit?user=awa")
	if got := r.auditedAs(t, p1); len(got) == 0 || got[0] != "paul view.audit subject="+p1 {
		t.Errorf("the audit log's view under the number it was filtered by: %q", got)
	}
	// awa's page showed p2 as the subject of her view of its caller:
	// found under it.
	if got := r.auditedAs(t, p2); !slices.Contains(got, "paul view.audit user=awa") {
		t.Errorf("a page of the audit log that showed %s, under it: %q", p2, got)
	}
	es, _ := r.store.AuditLog(t.Context(), staff.AuditFilter{User: "paul"})
	es = slices.DeleteFunc(es, func(e staff.AuditEntry) bool { return e.Action != "view.audit" })
	if len(es) != 2 || es[0].Detail != "user=awa" || !slices.Equal(es[0].Shown, []string{p2}) || es[1].Detail != "subject="+p1 {
		t.Errorf("paul's views of the audit log: %+v", es)
	}
}
