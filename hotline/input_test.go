package hotline_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A NUL or bytes that are not UTF-8, in any form, query or path of the
// console, get a 400 page that names the field, before any handler or store
// sees them (PostgreSQL's text refuses them: they were 500s).
func TestBadBytesAreRefused(t *testing.T) {
	const caller = "/hotline/callers/%2B237677000001"
	tests := []struct {
		label, user, method, path string
		form                      url.Values
		says                      string // the field named, "" for the address
	}{
		{"sign-in name", "", "POST", "/hotline/signin", url.Values{"name": {"adm\x00in"}, "password": {"xxxxxxxxxxxx"}}, "name"},
		{"sign-in password", "", "POST", "/hotline/signin", url.Values{"name": {"awa"}, "password": {"pass\xffword"}}, "password"},
		{"sign-in next", "", "GET", "/hotline/signin?next=%00", nil, "next"},
		{"search", "awa", "GET", "/hotline/search?q=6%0077", nil, "q"},
		{"case path", "awa", "GET", "/hotline/cases/%00", nil, ""},
		{"caller path", "awa", "GET", "/hotline/callers/%ff", nil, ""},
		{"case note", "awa", "POST", "/hotline/cases/10000048/note", url.Values{"text": {"a\x00b"}}, "text"},
		{"move note", "awa", "POST", "/hotline/cases/10000048/move", url.Values{"status": {"processing"}, "note": {"\xff"}}, "note"},
		{"SMS text", "awa", "POST", caller + "/sms", url.Values{"text": {"hello\x00"}, "lang": {"fr"}}, "text"},
		{"assisted input", "awa", "POST", "/hotline/assist/%2B237677000001", url.Values{"input": {"1\x00"}}, "input"},
		{"a field's name", "awa", "POST", caller + "/sms", url.Values{"te\x00xt": {"hello"}}, "te\uFFFDxt"},
		{"language", "awa", "POST", "/hotline/lang", url.Values{"lang": {"fr\xc3"}}, "lang"},
		{"audit user", "paul", "GET", "/hotline/audit?user=a%00b", nil, "user"},
		{"audit subject", "paul", "GET", "/hotline/audit?subject=%ff", nil, "subject"},
		{"phone input", "paul", "POST", "/hotline/phone", url.Values{"input": {"\x00"}}, "input"},
		{"campaign name (multipart)", "paul", "POST", "/hotline/campaigns", url.Values{"name": {"Vaccination\x00"}, "text_fr": {"Bonjour"}}, "name"},
		{"new account's full name", "root", "POST", "/hotline/users",
			url.Values{"name": {"zoe"}, "full_name": {"Zoé\x00"}, "role": {"operator"}, "lang": {"fr"}, "password": {"long enough pw"}}, "full_name"},
	}
	r := newRig(t)
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			b := r.browser(t)
			if tt.user != "" {
				b.mustSignIn(tt.user)
			} else {
				b.get("/hotline/signin")
			}
			var code int
			var body string
			switch {
			case tt.method == "GET":
				code, body, _ = b.get(tt.path)
			case strings.HasSuffix(tt.path, "/campaigns"):
				var buf bytes.Buffer
				w := multipart.NewWriter(&buf)
				w.WriteField("csrf", b.csrf)
				for k, v := range tt.form {
					w.WriteField(k, v[0])
				}
				w.Close()
				resp, err := b.c.Post(r.srv.URL+tt.path, w.FormDataContentType(), &buf)
				if err != nil {
					t.Fatal(err)
				}
				out, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				code, body = resp.StatusCode, string(out)
			default:
				code, body, _ = b.post(tt.path, tt.form)
			}
			want := "L'adresse contient un caractère nul"
			if tt.user == "paul" {
				want = "The address holds a NUL character"
			}
			if tt.says != "" {
				want = "Le champ « " + tt.says + " » contient un caractère nul"
				if tt.user == "paul" {
					want = "The field “" + tt.says + "” holds a NUL character"
				}
			}
			if code != http.StatusBadRequest || !strings.Contains(strings.ReplaceAll(body, "&#39;", "'"), want) {
				t.Errorf("%s %s: %d, want 400 saying %q\n%s", tt.method, tt.path, code, want, body)
			}
		})
	}
	// Nothing of it was kept: no note, no SMS, no account.
	if msgs, _ := r.out.Messages(t.Context(), "+237677000001", 10); len(msgs) != 0 {
		t.Errorf("an SMS was queued: %+v", msgs)
	}
	if _, err := r.store.User(t.Context(), "zoe"); err == nil {
		t.Errorf("the account was made")
	}
}
