// Package web is the citizens' web channel: the catalogue's dialogues, one
// screen per page, drawn on the server as a few kilobytes of HTML without
// JavaScript, for a feature phone's browser as for a laptop. A citizen signs
// in with their phone number and a one-time code sent by SMS through the
// outbox; their dialogue is then the engine's own session for that number,
// the one USSD uses, so a dialogue started here goes on by USSD and back.
package web

import (
	"cmp"
	"context"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/guichet/guichet/flood"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/ussd"
)

// Engine is what the pages do with the session engine (ussd.Engine).
type Engine interface {
	Step(ctx context.Context, req ussd.Request) (ussd.Reply, error)
	View(ctx context.Context, slot, phone string) (ussd.View, bool)
	Language(ctx context.Context, phone string) string
	SetLanguage(ctx context.Context, phone, lang string) error
}

var _ Engine = (*ussd.Engine)(nil)

// Store keeps the one-time codes and the signed-in sessions, by the hash of
// what the browser holds (the session store: Redis in a fleet).
type Store interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	Delete(ctx context.Context, key string) error
	Update(ctx context.Context, key string, ttl time.Duration, fn func(old []byte) ([]byte, error)) ([]byte, error)
}

// Outbox is where the codes' SMS are written (outbox.Memory, postgres.Outbox).
type Outbox interface {
	Enqueue(ctx context.Context, msgs []outbox.Message) error
}

// Defaults of Site's limits.
const (
	CodeFor       = 5 * time.Minute  // a code is good this long
	CodeTries     = 3                // wrong codes before it is void
	CodesPerPhone = 3                // codes a number is sent an hour
	CodesPerAddr  = 10               // codes one client address (an IPv6 /64) asks an hour
	CodesPerHour  = 2000             // codes the whole gateway sends an hour, whoever asks
	IdleFor       = 30 * time.Minute // a signed-in session unused this long ends
)

// Site serves the web channel under Prefix.
type Site struct {
	Engine  Engine
	Store   Store
	Outbox  Outbox
	Counter *flood.Counter // the hourly limits on codes
	// Prefix is the path the pages are served under, with its trailing
	// slash ("/m/").
	Prefix string
	// Secure marks the cookies Secure: the browser sends them over HTTPS
	// only (off for the demo on loopback).
	Secure bool
	// FrameAncestors are the origins that may show the pages in a frame
	// (the portal's, "https://portal.example"), besides the gateway itself.
	FrameAncestors []string
	Region         string // phone numbers without a country code ("CM")
	TrustedProxies []netip.Prefix
	IdleTimeout    time.Duration // IdleFor when 0
	// PerAddr is how many codes one client address may ask an hour
	// (CodesPerAddr when 0, no limit when negative): proxies that carry
	// many citizens (Opera Mini's) may need more.
	PerAddr int
	// PerHour is how many codes the gateway sends an hour, all numbers
	// and addresses together (CodesPerHour when 0): what SMS bombing
	// through many addresses can cost at most.
	PerHour int
	Now     func() time.Time
	Log     *slog.Logger
	// Code makes a one-time code; tests replace it. nil: 6 random digits.
	Code func() string
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/web.css
var css []byte

var pages = template.Must(template.New("").Funcs(template.FuncMap{}).ParseFS(templateFS, "templates/*.html"))

func (s *Site) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Site) prefix() string {
	p := cmp.Or(s.Prefix, "/m/")
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

func (s *Site) idle() time.Duration { return cmp.Or(s.IdleTimeout, IdleFor) }

func (s *Site) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Handler returns the pages, to mount at Prefix (they read the whole
// path, Prefix included).
func (s *Site) Handler() http.Handler {
	p := s.prefix()
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+p+"{$}", s.page)
	mux.HandleFunc("POST "+p+"{$}", s.step)
	mux.HandleFunc("POST "+p+"code", s.askCode)
	mux.HandleFunc("POST "+p+"signin", s.signIn)
	mux.HandleFunc("POST "+p+"new", s.restart)
	mux.HandleFunc("POST "+p+"signout", s.signOut)
	mux.HandleFunc("GET "+p+"web.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Write(css)
	})
	return s.headers(mux)
}

// headers keeps the pages to the gateway's own styles, no script at all,
// forms posting to the gateway only, and frames to the gateway and the
// configured portals.
func (s *Site) headers(next http.Handler) http.Handler {
	ancestors := strings.Join(append([]string{"'self'"}, s.FrameAncestors...), " ")
	policy := "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors " + ancestors
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", policy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if len(s.FrameAncestors) == 0 {
			h.Set("X-Frame-Options", "SAMEORIGIN") // for browsers that know no frame-ancestors
		}
		if !strings.HasSuffix(r.URL.Path, ".css") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}
