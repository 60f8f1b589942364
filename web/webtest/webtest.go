// Package webtest drives the web channel's pages over HTTP as a browser
// without JavaScript does: it follows redirects, keeps cookies, posts the
// forms of the page it is on, and reads a page's visible text.
package webtest

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Page is a page as the client got it.
type Page struct {
	Status int
	HTML   string
	Header http.Header
}

// Client walks the pages under Base (http://127.0.0.1:port/m/).
type Client struct {
	T    testing.TB
	Base string
	HTTP *http.Client
	Last Page // the page it is on
}

// New returns a client with a cookie jar of its own.
func New(t testing.TB, base string) *Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Client{T: t, Base: base, HTTP: &http.Client{Jar: jar}}
}

func (c *Client) keep(resp *http.Response, err error) Page {
	c.T.Helper()
	if err != nil {
		c.T.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.T.Fatal(err)
	}
	c.Last = Page{Status: resp.StatusCode, HTML: string(b), Header: resp.Header}
	return c.Last
}

// Get opens path under Base ("" for the dialogue's page, "?lang=en").
func (c *Client) Get(path string) Page {
	c.T.Helper()
	return c.keep(c.HTTP.Get(c.Base + path))
}

// Post sends a form to action under Base ("", "code", "signin", "new"),
// with the current page's csrf (and hop, when it has one) added.
func (c *Client) Post(action string, form url.Values) Page {
	c.T.Helper()
	if form == nil {
		form = url.Values{}
	}
	for _, k := range []string{"csrf", "hop"} {
		if form.Get(k) == "" {
			if v := Hidden(c.Last.HTML, k); v != "" {
				form.Set(k, v)
			}
		}
	}
	return c.keep(c.HTTP.PostForm(c.Base+action, form))
}

// Send answers the screen: a numbered option, 0, 00 or a typed value.
func (c *Client) Send(in string) Page {
	c.T.Helper()
	return c.Post("", url.Values{"in": {in}})
}

// SignIn asks a code for ph, reads it with code and types it.
func (c *Client) SignIn(ph string, code func() string) Page {
	c.T.Helper()
	c.Get("")
	if p := c.Post("code", url.Values{"phone": {ph}}); p.Status != http.StatusOK {
		c.T.Fatalf("asking a code: %d\n%s", p.Status, Text(p.HTML))
	}
	form := url.Values{"phone": {Hidden(c.Last.HTML, "phone")}, "code": {code()}}
	return c.Post("signin", form)
}

var hiddenRe = regexp.MustCompile(`<input type="hidden" name="([a-z]+)" value="([^"]*)">`)

// Hidden returns the value of a page's first hidden field name.
func Hidden(page, name string) string {
	for _, m := range hiddenRe.FindAllStringSubmatch(page, -1) {
		if m[1] == name {
			return html.UnescapeString(m[2])
		}
	}
	return ""
}

var (
	headRe   = regexp.MustCompile(`(?s)<head>.*</head>`)
	fieldRe  = regexp.MustCompile(`<input [^>]*type="(?:text|tel)"[^>]*>`)
	modeRe   = regexp.MustCompile(`inputmode="([a-z]+)"`)
	breakRe  = regexp.MustCompile(`<br>|</?(?:h1|p|li|ul|form|nav|main|label|button)[^>]*>`)
	tagRe    = regexp.MustCompile(`<[^>]*>`)
	blanksRe = regexp.MustCompile(`\n[ \t]*(\n[ \t]*)+`)
)

// Text is a page's visible text, a line per heading line, paragraph,
// label, button and link; a text field shows as [inputmode].
func Text(page string) string {
	s := headRe.ReplaceAllString(page, "")
	s = fieldRe.ReplaceAllStringFunc(s, func(f string) string {
		mode := "text"
		if m := modeRe.FindStringSubmatch(f); m != nil {
			mode = m[1]
		}
		return "\n[" + mode + "]\n"
	})
	s = breakRe.ReplaceAllString(s, "\n")
	s = tagRe.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	s = blanksRe.ReplaceAllString(s, "\n")
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Join(lines, "\n")
}
