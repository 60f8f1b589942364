package web

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/netip"
	"time"
)

// The cookies: the signed-in session's token, the sign-in forms' own CSRF
// token (before a session exists), and the page's language before
// sign-in. All are HttpOnly and SameSite=Lax: a form another site posts
// arrives without them. Lax also means that a page of another site (a
// portal on another registrable domain) that frames these pages gets no
// cookie in the frame: such a portal links to the pages instead, and only
// a portal of the same site (a sibling sub-domain) frames them
// (FrameAncestors). SameSite=None would let any site's frame post with
// the citizen's session: refused.
const (
	sessionCookie = "guichet_web"
	csrfCookie    = "guichet_web_csrf"
	langCookie    = "guichet_web_lang"
)

// Keys in the Store; what follows each is a phone number or the hash of a
// token, never a token or a code.
const (
	codeKey    = "web:code:"
	sessionKey = "web:session:"
)

// code is a one-time code waiting for its number, as stored: its hash
// with a salt of its own, never the code.
type code struct {
	Hash    string `json:"h"`
	Salt    string `json:"s"`
	Tries   int    `json:"t"`
	Expires int64  `json:"x"` // unix ms
}

// session is a signed-in browser: its number and the engine's dialogue it
// walks (the dialogue's id), and its forms' CSRF token.
type session struct {
	Phone    string `json:"p"`
	Dialogue string `json:"d"`
	CSRF     string `json:"c"`
	// Opened is when the citizen signed in (unix seconds): a session
	// ends SessionFor after it, however busy.
	Opened int64 `json:"o,omitempty"`
}

// SessionFor is the longest a web session lasts, used or not: a phone
// lent or lost does not stay signed in for good.
const SessionFor = 12 * time.Hour

var (
	errNoCode   = errors.New("no code waiting for this number, or it expired")
	errWrong    = errors.New("wrong code")
	errTooMany  = errors.New("too many wrong codes")
	errLimited  = errors.New("too many codes asked")
	errNotKnown = errors.New("no such session")
)

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func same(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// sixDigits is a uniformly random code of 6 digits.
func sixDigits() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// issue makes a code for ph, keeps its hash for CodeFor (replacing any
// earlier one) and returns it to be sent.
func (s *Site) issue(ctx context.Context, ph string) (string, error) {
	gen := s.Code
	if gen == nil {
		gen = sixDigits
	}
	c := gen()
	salt := newToken()
	b, err := json.Marshal(code{Hash: hashOf(salt, ph, c), Salt: salt, Expires: s.now().Add(CodeFor).UnixMilli()})
	if err != nil {
		return "", err
	}
	if err := s.Store.Set(ctx, codeKey+ph, b, CodeFor); err != nil {
		return "", fmt.Errorf("keeping a code: %w", err)
	}
	return c, nil
}

// verify checks a code typed for ph: right once, then gone; each wrong
// one counts, and the CodeTries-th voids it.
func (s *Site) verify(ctx context.Context, ph, typed string) error {
	var verdict error
	now := s.now().UnixMilli()
	_, err := s.Store.Update(ctx, codeKey+ph, CodeFor, func(old []byte) ([]byte, error) {
		var c code
		if old == nil || json.Unmarshal(old, &c) != nil || c.Expires <= now {
			verdict = errNoCode
			return nil, nil
		}
		if same(hashOf(c.Salt, ph, typed), c.Hash) {
			verdict = nil
			return nil, nil // used: gone
		}
		c.Tries++
		if c.Tries >= CodeTries {
			verdict = errTooMany
			return nil, nil
		}
		verdict = errWrong
		return json.Marshal(c)
	})
	if err != nil {
		return fmt.Errorf("checking a code: %w", err)
	}
	return verdict
}

// limit counts a code asked for ph from addr, and refuses it over the
// hourly limits.
// An IPv6 client is counted by its /64, the network one line is given: its
// addresses are as many as it likes. The gateway's own hourly budget
// bounds what many addresses and numbers can cost together.
func (s *Site) limit(ctx context.Context, ph string, addr netip.Addr) error {
	n, err := s.Counter.Add(ctx, "web-code-all", time.Hour)
	if err != nil {
		return err
	}
	if n > cmp.Or(s.PerHour, CodesPerHour) {
		s.log().Warn("sign-in codes over the gateway's hourly budget: refused", "budget", cmp.Or(s.PerHour, CodesPerHour))
		return errLimited
	}
	if perAddr := cmp.Or(s.PerAddr, CodesPerAddr); perAddr > 0 {
		from := addr.Unmap().String()
		if addr.Unmap().Is6() {
			p, _ := addr.Prefix(64)
			from = p.String()
		}
		n, err := s.Counter.Add(ctx, "web-code-addr:"+from, time.Hour)
		if err != nil {
			return err
		}
		if n > perAddr {
			return errLimited
		}
	}
	n, err = s.Counter.Add(ctx, "web-code:"+ph, time.Hour)
	if err != nil {
		return err
	}
	if n > CodesPerPhone {
		return errLimited
	}
	return nil
}

// open starts a signed-in session for ph and sets its cookie.
// The browser's previous session, if any, ends: one browser, one session.
func (s *Site) open(ctx context.Context, w http.ResponseWriter, r *http.Request, ph string) error {
	if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" {
		if err := s.Store.Delete(ctx, sessionKey+hashOf(ck.Value)); err != nil {
			return fmt.Errorf("ending the previous web session: %w", err)
		}
	}
	token := newToken()
	if err := s.save(ctx, token, session{Phone: ph, CSRF: newToken(), Opened: s.now().Unix()}); err != nil {
		return err
	}
	s.cookie(w, sessionCookie, token)
	return nil
}

func (s *Site) save(ctx context.Context, token string, se session) error {
	b, err := json.Marshal(se)
	if err != nil {
		return err
	}
	if err := s.Store.Set(ctx, sessionKey+hashOf(token), b, s.idle()); err != nil {
		return fmt.Errorf("keeping a web session: %w", err)
	}
	return nil
}

// signedIn returns the browser's session and its token, its idle expiry
// pushed back; errNotKnown without one.
func (s *Site) signedIn(r *http.Request) (session, string, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return session{}, "", errNotKnown
	}
	key := sessionKey + hashOf(ck.Value)
	var se session
	b, err := s.Store.Update(r.Context(), key, s.idle(), func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, errNotKnown
		}
		return old, nil
	})
	if err != nil {
		if errors.Is(err, errNotKnown) {
			return session{}, "", errNotKnown
		}
		return session{}, "", err
	}
	if err := json.Unmarshal(b, &se); err != nil || se.Phone == "" {
		return session{}, "", errNotKnown
	}
	if se.Opened > 0 && s.now().Sub(time.Unix(se.Opened, 0)) > SessionFor {
		s.Store.Delete(r.Context(), key) // over: sign in again
		return session{}, "", errNotKnown
	}
	return se, ck.Value, nil
}

func (s *Site) cookie(w http.ResponseWriter, name, value string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: s.prefix(), HttpOnly: true, Secure: s.Secure,
		SameSite: http.SameSiteLaxMode})
}

func (s *Site) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: s.prefix(), MaxAge: -1, HttpOnly: true, Secure: s.Secure,
		SameSite: http.SameSiteLaxMode})
}

// CachedKeys are the keys under which the store holds something of phone
// by number: its sign-in code (what an erasure deletes; a signed-in
// session, found by its token only, ends within IdleFor).
func CachedKeys(phone string) []string { return []string{codeKey + phone} }
