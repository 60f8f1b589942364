package hotline_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/guichet/guichet/staff"
)

// signInError is the message a refused sign-in shows.
var signInError = regexp.MustCompile(`<span class="err"[^>]*>([^<]*)</span>`)

func refusal(body string) string {
	if m := signInError.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

// An attacker who sends five guesses at root's password every minute for
// an hour, from one address, never locks root out: root, trying from
// another address in the attack's last 10 minutes, gets in. The
// attack leaves a few audit entries per window, not one per guess.
func TestGuessesDoNotLockTheAccountOut(t *testing.T) {
	r := newRig(t)
	attacker, root := r.browserAt(t, "203.0.113.9"), r.browserAt(t, "198.51.100.7")
	start := r.now
	guesses, rootIn := 0, false
	for r.now.Sub(start) < time.Hour {
		for range 5 {
			code, body, _ := attacker.signIn("root", fmt.Sprintf("wrong guess %d", guesses))
			if code != http.StatusUnauthorized {
				t.Fatalf("guess %d: %d %s", guesses, code, refusal(body))
			}
			guesses++
		}
		if !rootIn && r.now.Sub(start) >= 50*time.Minute {
			code, _, loc := root.signIn("root", password)
			rootIn = code == http.StatusSeeOther && loc == "/hotline/"
		}
		r.now = r.now.Add(time.Minute)
	}
	if !rootIn {
		t.Fatalf("while %d guesses came from another address, root could not sign in for 10 minutes", guesses)
	}
	es, err := r.store.AuditLog(t.Context(), staff.AuditFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	failures := 0
	for _, e := range es {
		if strings.HasPrefix(e.Action, "signin.") {
			failures++
		}
	}
	// Three keys (the name, the name from the address, the address), one
	// entry each per 15 minutes.
	if max := 3 * (60/15 + 1); failures > max {
		t.Errorf("%d guesses wrote %d audit entries, want at most %d", guesses, failures, max)
	}
}

// A throttled account and an unknown name get the same answer; a
// throttled account answers in about the time an unknown name that is not
// throttled does (both run bcrypt): the answers tell nobody which
// accounts exist.
func TestThrottledAndUnknownAlike(t *testing.T) {
	r := newRig(t)
	known, unknown := r.browserAt(t, "203.0.113.9"), r.browserAt(t, "203.0.113.10")
	var knownSays, unknownSays string
	var knownTook, freshTook time.Duration
	for i := range 12 {
		t0 := time.Now()
		_, body, _ := known.signIn("root", "wrong guess!")
		k := time.Since(t0)
		_, body2, _ := unknown.signIn("nobody", "wrong guess!")
		knownSays, unknownSays = refusal(body), refusal(body2)
		if knownSays != unknownSays {
			t.Fatalf("attempt %d: root is told %q, an unknown name %q", i+1, knownSays, unknownSays)
		}
		// A name nobody tried, from an address nobody used: not throttled.
		fresh := r.browserAt(t, fmt.Sprintf("198.51.100.%d", 10+i))
		t0 = time.Now()
		fresh.signIn(fmt.Sprintf("nobody%d", i), "wrong guess!")
		f := time.Since(t0)
		if i >= 6 && (knownTook == 0 || k < knownTook) {
			knownTook = k
		}
		if i >= 6 && (freshTook == 0 || f < freshTook) {
			freshTook = f
		}
	}
	if !strings.Contains(knownSays, "Trop d&#39;essais") {
		t.Errorf("after 12 guesses: %q, want to be told to wait", knownSays)
	}
	if knownTook*4 < freshTook || freshTook*4 < knownTook {
		t.Errorf("a throttled account answers in %v, an unknown name in %v", knownTook, freshTook)
	}
}

// The password rules: the current password is not a new one, nor are
// common passwords or one character repeated; a good one is taken.
func TestPasswordRules(t *testing.T) {
	r := newRig(t)
	b := r.browser(t)
	b.mustSignIn("awa")
	for _, bad := range []string{password, "aaaaaaaaaa", "AAAAAAAAAAAA", "motdepasse123", "Password2026!", "azertyuiop", "1234567890", "awa2026awa2026"} {
		b.get("/hotline/password")
		if code, body, _ := b.post("/hotline/password", url.Values{"current": {password}, "new": {bad}, "again": {bad}}); code != http.StatusBadRequest {
			t.Errorf("new password %q: %d %s, want 400", bad, code, refusal(body))
		}
	}
	b.get("/hotline/password")
	if code, body, _ := b.post("/hotline/password", url.Values{"current": {password}, "new": {"kiwi rhubarb lantern"}, "again": {"kiwi rhubarb lantern"}}); code != http.StatusSeeOther {
		t.Errorf("a good password: %d %s", code, refusal(body))
	}
	// An administrator's temporary password too.
	root := r.browser(t)
	root.mustSignIn("root")
	root.get("/hotline/users")
	if code, _, _ := root.post("/hotline/users", url.Values{"name": {"zoe"}, "role": {"operator"}, "lang": {"fr"}, "password": {"aaaaaaaaaa"}}); code != http.StatusBadRequest {
		t.Errorf("a temporary password of one letter: %d, want 400", code)
	}
}

// A temporary password is refused once a day has passed.
func TestTemporaryPasswordExpires(t *testing.T) {
	r := newRig(t)
	root := r.browser(t)
	root.mustSignIn("root")
	root.get("/hotline/users")
	if code, _, _ := root.post("/hotline/users", url.Values{"name": {"zoe"}, "role": {"operator"}, "lang": {"fr"}, "password": {"tulip orbit 5512"}}); code != http.StatusSeeOther {
		t.Fatalf("adding zoe: %d", code)
	}
	r.now = r.now.Add(23 * time.Hour)
	if code, _, loc := r.browser(t).signIn("zoe", "tulip orbit 5512"); code != http.StatusSeeOther || loc != "/hotline/" {
		t.Errorf("the temporary password within a day: %d → %s", code, loc)
	}
	r.now = r.now.Add(2 * time.Hour)
	code, body, _ := r.browser(t).signIn("zoe", "tulip orbit 5512")
	if code != http.StatusUnauthorized || !strings.Contains(refusal(body), "expiré") {
		t.Errorf("the temporary password after 25 h: %d %q, want refused as expired", code, refusal(body))
	}
}

// Changing one's password ends one's other sessions, not this one.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	r := newRig(t)
	here, there := r.browser(t), r.browser(t)
	here.mustSignIn("awa")
	there.mustSignIn("awa")
	here.get("/hotline/password")
	if code, _, _ := here.post("/hotline/password", url.Values{"current": {password}, "new": {"kiwi rhubarb lantern"}, "again": {"kiwi rhubarb lantern"}}); code != http.StatusSeeOther {
		t.Fatalf("change: %d", code)
	}
	if code, _, _ := here.get("/hotline/"); code != http.StatusOK {
		t.Errorf("the session that changed the password: %d, want 200", code)
	}
	if code, _, loc := there.get("/hotline/"); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/hotline/signin") {
		t.Errorf("another session after the change: %d → %s, want sent to sign in", code, loc)
	}
}

// Disabling an account ends its sessions for good: enabling it again
// does not bring them back; a disabled account cannot change its
// password.
func TestDisablingEndsSessions(t *testing.T) {
	r := newRig(t)
	awa, root := r.browser(t), r.browser(t)
	awa.mustSignIn("awa")
	root.mustSignIn("root")
	root.get("/hotline/users")
	if code, _, _ := root.post("/hotline/users/awa/role", url.Values{"role": {"disabled"}}); code != http.StatusSeeOther {
		t.Fatalf("disable: %d", code)
	}
	if code, _, loc := awa.post("/hotline/password", url.Values{"current": {password}, "new": {"kiwi rhubarb lantern"}, "again": {"kiwi rhubarb lantern"}}); code == http.StatusSeeOther && !strings.HasPrefix(loc, "/hotline/signin") {
		t.Errorf("a disabled account changed its password: → %s", loc)
	}
	if u, _ := r.store.User(t.Context(), "awa"); bcrypt.CompareHashAndPassword(u.Hash, []byte(password)) != nil {
		t.Errorf("a disabled account's password changed")
	}
	root.get("/hotline/users")
	if code, _, _ := root.post("/hotline/users/awa/role", url.Values{"role": {"operator"}}); code != http.StatusSeeOther {
		t.Fatalf("enable: %d", code)
	}
	if code, _, loc := awa.get("/hotline/"); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/hotline/signin") {
		t.Errorf("a session of before the account was disabled: %d → %s, want sent to sign in", code, loc)
	}
}

// A session unused for 30 minutes ends; one in use lasts up to 12 hours.
func TestIdleSessionsEnd(t *testing.T) {
	r := newRig(t)
	b := r.browser(t)
	b.mustSignIn("awa")
	r.now = r.now.Add(31 * time.Minute)
	if code, _, loc := b.get("/hotline/"); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/hotline/signin") {
		t.Errorf("after 31 idle minutes: %d → %s, want sent to sign in", code, loc)
	}
	b.mustSignIn("awa")
	signedIn := r.now
	for r.now.Sub(signedIn) < 13*time.Hour {
		r.now = r.now.Add(20 * time.Minute)
		if code, _, _ := b.get("/hotline/"); code != http.StatusOK {
			break
		}
	}
	if lasted := r.now.Sub(signedIn); lasted < 11*time.Hour+40*time.Minute || lasted > 12*time.Hour {
		t.Errorf("a session in use every 20 minutes lasted %v, want 12 h", lasted)
	}
}

// A sign-in's address is its connection's, unless that is a trusted
// proxy's: then X-Forwarded-For's. Loopback is trusted no more than any
// other address.
func TestSignInAddress(t *testing.T) {
	r := newRig(t)
	r.console.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.5/32")}
	// Through the trusted proxy: five guesses from one client make that
	// client wait, not another.
	guesser := r.browserAt(t, "10.0.0.5")
	guesser.forwarded = "192.0.2.1, 198.51.100.1"
	for range 5 {
		guesser.signIn("awa", "wrong guess!")
	}
	if code, body, _ := guesser.signIn("awa", password); code != http.StatusUnauthorized || !strings.Contains(refusal(body), "Trop d&#39;essais") {
		t.Errorf("the guessing client through the proxy: %d %q, want to wait", code, refusal(body))
	}
	other := r.browserAt(t, "10.0.0.5")
	other.forwarded = "198.51.100.2"
	if code, _, _ := other.signIn("awa", password); code != http.StatusSeeOther {
		t.Errorf("another client through the proxy: %d, want signed in", code)
	}
	// From loopback, not listed: X-Forwarded-For is not believed, so
	// changing it changes nothing.
	for i := range 5 {
		local := r.browserAt(t, "127.0.0.1")
		local.forwarded = fmt.Sprintf("198.51.100.%d", 10+i)
		local.signIn("paul", "wrong guess!")
	}
	local := r.browserAt(t, "127.0.0.1")
	local.forwarded = "198.51.100.99"
	if code, body, _ := local.signIn("paul", password); code != http.StatusUnauthorized || !strings.Contains(refusal(body), "Trop d&#39;essais") {
		t.Errorf("loopback with a new X-Forwarded-For: %d %q, want to wait as the same address", code, refusal(body))
	}
}
