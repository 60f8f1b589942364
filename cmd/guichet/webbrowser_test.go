package main

// The web channel in a real headless Chromium: a citizen signs in with
// the code the outbox holds, applies for a birth certificate, and tracks
// the case by USSD with the reference the page gave; every kind of page
// passes axe-core's accessibility rules.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/guichet/guichet/browsertest"
	"github.com/guichet/guichet/citest"
)

// axePath is where scripts/test-services.sh installs axe-core
// (npm install --prefix bin/npm axe-core@4).
const axePath = "../../bin/npm/node_modules/axe-core/axe.min.js"

// needed fails a test that lacks a tool under CI, and skips it elsewhere:
// a browser test never goes missing silently in CI.
func needed(t *testing.T, what string, err error) {
	t.Helper()
	citest.Missing(t, fmt.Sprintf("the web browser test needs %s: %v (run scripts/test-services.sh)", what, err))
}

func webChromium(t *testing.T) context.Context {
	t.Helper()
	exe, err := browsertest.Path()
	if err != nil {
		needed(t, "Chromium", err)
	}
	opts := browsertest.Options(t, exe, 360, 640) // a small phone's
	hard, hardCancel := context.WithTimeout(context.Background(), 50*time.Second)
	actx, acancel := chromedp.NewExecAllocator(hard, opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); acancel(); hardCancel() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	tctx, tcancel := context.WithTimeout(ctx, 40*time.Second)
	t.Cleanup(tcancel)
	return tctx
}

type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// checkAxe runs axe-core on the page and fails the test on any violation.
func checkAxe(t *testing.T, ctx context.Context, axe, page string) {
	t.Helper()
	present, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe === "object"`))
	if err != nil {
		t.Fatal(err)
	}
	if !present {
		// DevTools' evaluation is not the page's script: the page's
		// policy (no script at all) does not refuse it.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](axe)); err != nil {
			t.Fatalf("injecting axe-core: %v", err)
		}
	}
	run := `axe.run(document).then(r => ({passes: r.passes.length, violations: r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help, nodes: v.nodes.map(n => n.html)}))}))`
	res, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
		Passes     int            `json:"passes"`
		Violations []axeViolation `json:"violations"`
	}](run, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("running axe-core on the %s page: %v", page, err)
	}
	if res.Passes == 0 {
		t.Errorf("axe-core checked nothing on the %s page", page)
	}
	t.Logf("axe-core on the %s page: %d rules passed, %d violated", page, res.Passes, len(res.Violations))
	for _, v := range res.Violations {
		t.Errorf("axe-core on the %s page: %s (%s): %s, on %v", page, v.ID, v.Impact, v.Help, v.Nodes)
	}
}

func TestWebBrowser(t *testing.T) {
	axe, err := os.ReadFile(axePath)
	if err != nil {
		needed(t, "axe-core", err)
	}
	g := newTestGateway(t, nil)
	ctx := webChromium(t)
	const ph = "+237677100020"
	heading := func() string {
		t.Helper()
		h, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
		if err != nil {
			t.Fatalf("no heading: %v", err)
		}
		return h
	}
	click := func(sel string) {
		t.Helper()
		resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("clicking %s: %v", sel, err)
		}
		if resp.Status != http.StatusOK {
			t.Fatalf("clicking %s: HTTP %d", sel, resp.Status)
		}
	}
	typeIn := func(sel, text string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(sel), text)); err != nil {
			t.Fatalf("typing into %s: %v", sel, err)
		}
	}
	expect := func(want string) {
		t.Helper()
		if h := heading(); !strings.Contains(h, want) {
			t.Fatalf("the page says %q, want %q", h, want)
		}
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(g.url+"/m/?lang=fr")); err != nil {
		t.Fatal(err)
	}
	expect("Connexion")
	checkAxe(t, ctx, string(axe), "sign-in")
	typeIn("#phone", "677 10 00 20")
	click(`form[action="/m/code"] button`)
	checkAxe(t, ctx, string(axe), "code")
	typeIn("#code", webCode(t, g, ph)())
	click(`form[action="/m/signin"] button`)
	expect("Guichet")
	checkAxe(t, ctx, string(axe), "home menu")
	click(`button[value="2"]`) // birth certificate
	expect("Centre d'état civil de naissance ?")
	click(`button[value="3"]`) // Mairie de Yaounde 1er
	expect("Nom complet sur l'acte ?")
	checkAxe(t, ctx, string(axe), "typed answer")
	mode := func() string {
		t.Helper()
		a, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#in"), "inputmode"))
		if err != nil {
			t.Fatalf("no answer's field: %v", err)
		}
		return a.Value
	}
	if m := mode(); m != "text" {
		t.Errorf("the name's field: inputmode %q", m)
	}
	typeIn("#in", "Ngo Bassa Marie")
	click(`form[action="/m/"] button[type="submit"]:not([name])`)
	expect("Date de naissance")
	if m := mode(); m != "numeric" {
		t.Errorf("the date's field: inputmode %q", m)
	}
	typeIn("#in", "15031990\n") // Enter sends the form, as on a phone
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`button[value="1"]`))); err != nil {
		t.Fatal(err)
	}
	expect("Copie d'acte pour Ngo Bassa Marie")
	click(`button[value="1"]`)
	end := heading()
	ref := regexp.MustCompile(`\b[0-9]{8}\b`).FindString(end)
	if ref == "" {
		t.Fatalf("no reference on the end page: %q", end)
	}
	checkAxe(t, ctx, string(axe), "end")

	// Tracking by USSD, with the reference the page gave.
	resp, err := http.PostForm(g.url+"/ussd/demo", url.Values{"sessionId": {"ATUid_web_track"}, "phoneNumber": {ph},
		"networkCode": {"62401"}, "serviceCode": {"*123*4*" + ref + "#"}, "text": {""}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if want := fmt.Sprintf("Dossier %s (Acte de naissance): Déposé", ref); !strings.Contains(string(b), want) {
		t.Errorf("tracking %s by USSD: %q, want %q", ref, b, want)
	}
}
