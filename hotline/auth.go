package hotline

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/peer"
	"github.com/guichet/guichet/staff"
)

// Sign-in policy.
const (
	SessionFor = 12 * time.Hour   // a shift: then sign in again
	IdleFor    = 30 * time.Minute // a session unused this long ends (Console.IdleTimeout's default)
	// NoticeEvery is how often the sign-in failures of one key (a name,
	// an address) are written to the audit log, however many they are.
	NoticeEvery = 15 * time.Minute

	sessionCookie  = "guichet_session"
	preCSRFCookie  = "guichet_csrf" // double-submit token of the sign-in form
	tokenBytes     = 32
	maxNameLength  = 64
	maxFieldLength = 500
)

// The default backoffs of sign-in failures. No failure locks an account:
// attempts wait longer and longer instead, on three keys. A name tried
// from one address gets five tries at once, then waits from a second up
// to 15 minutes: that is what slows a guesser down. A name from anywhere
// waits only after 50 failures in a row, and never more than 5 minutes:
// only guesses spread over many addresses reach it, and since a single
// address's guesses wait longer than that, they cannot keep the name's
// owner out. An address, whatever the names, waits after 20 failures, up
// to 15 minutes (an office may sit behind one address). An attempt that
// must wait checks no password.
var (
	DefaultTryBackoff     = staff.Backoff{Free: 5, First: time.Second, Max: 15 * time.Minute, Forget: time.Hour}
	DefaultNameBackoff    = staff.Backoff{Free: 50, First: time.Second, Max: 5 * time.Minute, Forget: time.Hour}
	DefaultAddressBackoff = staff.Backoff{Free: 20, First: time.Second, Max: 15 * time.Minute, Forget: time.Hour}
)

// dummyHash is compared against when no password is checked (an unknown
// name, an attempt that must wait), so that every sign-in takes as long:
// it is made at the cost the accounts' hashes are.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("not a password of anyone"), staff.HashCost)
	return h
})

// newToken returns a random token and its stored hash.
func newToken() (token, hash string) {
	b := make([]byte, tokenBytes)
	rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// Errors of SignIn; the page shows the same words for a wrong name and a
// wrong password, and for every attempt that must wait.
var (
	errBadCredentials = guichet.Errorf(guichet.EINVALID, "wrong name or password")
	errExpired        = guichet.Errorf(guichet.EINVALID, "one-time password expired")
)

// signInCounts are what sign-ins were refused for, since start.
type signInCounts struct {
	failed, delayed atomic.Uint64
}

// SignInStats are the console's refused sign-ins since start (metrics).
type SignInStats struct {
	Failed  uint64 // a wrong name or password
	Delayed uint64 // told to wait: too many failures on the name, the name from the address, or the address (no password checked)
}

// SignInStats returns the refused sign-ins since start.
func (c *Console) SignInStats() SignInStats {
	return SignInStats{Failed: c.signIns.failed.Load(), Delayed: c.signIns.delayed.Load()}
}

// waitError says until when attempts must wait.
type waitError struct{ until time.Time }

func (e waitError) Error() string {
	return "too many tries: wait until " + e.until.Format(time.TimeOnly)
}

// SignIn checks a name and password from the address addr (clientAddr's)
// and opens a session. Every attempt is counted, before its password is
// checked, against the name (known or not) and the address, and while
// either must wait no password is checked: the answer is a waitError, the
// same for any name. An unknown name, an attempt that waits and a known
// one take as long (bcrypt runs on each). Failures are written to the
// audit log once per NoticeEvery for each name and address, not once
// per attempt.
func (c *Console) SignIn(ctx context.Context, name, password string, addr netip.Addr) (staff.Session, string, staff.User, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	now := c.now()
	strikes := c.strikes(name, addr)
	v, err := c.Accounts.Attempt(ctx, now, strikes)
	if err != nil {
		return staff.Session{}, "", staff.User{}, fmt.Errorf("signing in: %w", err)
	}
	if !v.OK {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		for _, key := range v.Waiting {
			c.notice(ctx, key, name, "signin.throttled", fmt.Sprintf("%s: %d failures in a row, next attempt from %s", key, v.Failures[key], v.Until.In(c.location()).Format(time.TimeOnly)), now)
		}
		c.signIns.delayed.Add(1)
		return staff.Session{}, "", staff.User{}, waitError{v.Until}
	}
	var u staff.User
	if staff.ValidName(name) {
		u, err = c.Accounts.User(ctx, name)
	} else {
		err = guichet.Errorf(guichet.ENOTFOUND, "user not found")
	}
	switch {
	case guichet.ErrorCode(err) == guichet.ENOTFOUND:
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		c.signIns.failed.Add(1)
		return staff.Session{}, "", staff.User{}, errBadCredentials
	case err != nil:
		return staff.Session{}, "", staff.User{}, fmt.Errorf("signing in: %w", err)
	}
	if bcrypt.CompareHashAndPassword(u.Hash, []byte(password)) != nil || !u.Role.Valid() {
		c.signIns.failed.Add(1)
		c.notice(ctx, strikes[0].Key, name, "signin.failed", fmt.Sprintf("%d failures in a row, the latest from %s", v.Failures[strikes[0].Key], addr), now)
		return staff.Session{}, "", u, errBadCredentials
	}
	// Only who knows the password learns that it expired.
	if u.PasswordExpired(now) {
		return staff.Session{}, "", u, errExpired
	}
	if err := c.Accounts.Succeeded(ctx, now, strikes); err != nil {
		return staff.Session{}, "", staff.User{}, fmt.Errorf("signing in: %w", err)
	}
	token, hash := newToken()
	csrf, _ := newToken()
	s := staff.Session{TokenHash: hash, User: name, CSRF: csrf, Created: now, Expires: now.Add(SessionFor), LastSeen: now}
	if err := c.Accounts.CreateSession(ctx, s); err != nil {
		return staff.Session{}, "", staff.User{}, fmt.Errorf("opening a session: %w", err)
	}
	return s, token, u, nil
}

// strikes are the keys an attempt on name from addr counts against: the
// name, the name from that address, the address. A success forgets the
// second's failures, and takes only its own attempt back from the others
// (an attacker's failures on the name stay counted).
func (c *Console) strikes(name string, addr netip.Addr) []staff.Strike {
	key := "name:" + name
	if !staff.ValidName(name) {
		// No account has it: keyed by its hash, so that whatever bytes
		// were sent make a short, valid key.
		sum := sha256.Sum256([]byte(name))
		key = "name:#" + hex.EncodeToString(sum[:12])
	}
	a := addrKey(addr)
	return []staff.Strike{
		{Key: key, Backoff: c.backoff(c.NameBackoff, DefaultNameBackoff), Shared: true},
		{Key: key + "@" + a, Backoff: c.backoff(c.TryBackoff, DefaultTryBackoff)},
		{Key: "addr:" + a, Backoff: c.backoff(c.AddressBackoff, DefaultAddressBackoff), Shared: true},
	}
}

func (c *Console) backoff(b, def staff.Backoff) staff.Backoff {
	if b == (staff.Backoff{}) {
		return def
	}
	return b
}

// addrKey is the address as throttled: an IPv6 address by its /64, which
// one subscriber usually holds whole.
func addrKey(a netip.Addr) string {
	if a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.Unmap().String()
}

// notice writes a sign-in failure of key to the audit log, unless one was
// written in the last NoticeEvery; under the name tried when an account
// has it.
func (c *Console) notice(ctx context.Context, key, name, action, detail string, now time.Time) {
	ok, err := c.Accounts.Noticed(ctx, key, now, NoticeEvery)
	if err != nil {
		c.Log.Error("noticing sign-in failures", "err", err)
		return
	}
	if !ok {
		return
	}
	who := ""
	if staff.ValidName(name) {
		if _, err := c.Accounts.User(ctx, name); err == nil {
			who = name
		}
	}
	c.audit(ctx, staff.User{Name: who}, action, "", detail)
}

// clientAddr is the address a request comes from: its TCP peer, unless
// the peer is one of TrustedProxies, in which case the nearest address of
// X-Forwarded-For that is not one of them (or the farthest there is).
// Nothing else, loopback included, is taken on trust.
func (c *Console) clientAddr(r *http.Request) netip.Addr {
	return peer.Addr(r, c.TrustedProxies)
}

// idle is how long a session may go unused.
func (c *Console) idle() time.Duration {
	if c.IdleTimeout > 0 {
		return c.IdleTimeout
	}
	return IdleFor
}

// waitFor says how long to wait, rounded up: seconds under two minutes,
// minutes above.
func waitFor(lang string, d time.Duration) string {
	if d < 2*time.Minute {
		return tr(lang, "wait.seconds", max(1, int((d+time.Second-1)/time.Second)))
	}
	return tr(lang, "wait.minutes", int((d+time.Minute-1)/time.Minute))
}

// passwordError says in lang what rule a password breaks.
func passwordError(lang string, err error) string {
	var pe *staff.PasswordError
	if !errors.As(err, &pe) {
		return tr(lang, "password.rule.short", staff.MinPassword)
	}
	switch pe.Rule {
	case staff.RuleShort, staff.RuleName:
		return tr(lang, "password.rule."+pe.Rule, staff.MinPassword)
	}
	return tr(lang, "password.rule."+pe.Rule)
}
