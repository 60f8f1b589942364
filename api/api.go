// Package api is the ministries' JSON API: back-office systems read the
// catalogue, look up and list their own services' cases, and move them
// along their life cycle. Every error is an RFC 9457 problem.
package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/apikey"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/staff"
)

// Cases is what the API needs of the case store (cases.Service). owner
// restricts every call to the administration's own services.
type Cases interface {
	Case(ctx context.Context, ref, owner string) (cases.Case, error)
	Cases(ctx context.Context, f cases.CaseFilter, owner string) ([]cases.Case, error)
	// MoveCaseOnce moves a case; with a key, a repeated call changes nothing.
	MoveCaseOnce(ctx context.Context, ref string, m cases.Move, owner, key string) (cases.Case, error)
}

// Keys finds an API key by its SHA-256 and records its use.
type Keys interface {
	APIKey(ctx context.Context, hash []byte) (apikey.Key, error)
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
}

// Server serves /api/v1.
type Server struct {
	Catalogue *menus.Catalogue
	Cases     Cases
	Keys      Keys
	Notify    Notifier  // POST /api/v1/messages
	Messages  Messages  // GET /api/v1/messages
	Callbacks Callbacks // PUT /api/v1/callback; nil: none (memory)
	Campaigns CampaignStore
	// Days tells whether the key a campaign is charged to has any of its
	// day left, before the campaign starts or resumes (the Runner charges
	// each step to it); nil: not asked.
	Days  *Days
	Audit Auditor // the console's audit log, for campaigns' history; nil: none
	// CallbackAllow lists the addresses a callback may go to besides
	// public ones (tests, a ministry's private network).
	CallbackAllow []netip.Prefix
	// Counts keeps each key's requests of the second and messages of the
	// day, shared by the fleet (the session store); nil: this process's.
	Counts Counter
	// CacheKeys lets POST /api/v1/messages trust a key it saw less than
	// a minute ago instead of looking it up: only where Notify's store
	// refuses (EUNAUTHORIZED), in the transaction that would write them,
	// the messages of a key revoked or expired (PostgreSQL), so that a key
	// revoked on one gateway is refused at once by every one.
	CacheKeys bool
	// Observe, if set, is told of each request answered: its route as
	// mounted ("GET /api/v1/cases/{ref}": never the path, which holds
	// references), its status and how long it took (metrics).
	Observe func(route string, code int, d time.Duration)
	Log     *slog.Logger
	Now     func() time.Time // nil: time.Now

	localOnce sync.Once
	local     Counter // Counts when none is given: this Server's own
	keys      keyCache
}

// OpenAPI is the OpenAPI 3.1 document of the API, served at
// /api/v1/openapi.json; TestOpenAPI holds it to the router and to what the
// handlers answer.
//
//go:embed openapi.json
var OpenAPI []byte

// MaxBody bounds a request body.
const MaxBody = 64 << 10

// MaxNote bounds a note to the citizen: it goes out by SMS.
const MaxNote = 300

// Routes mounts the API on r, each route behind plainInput.
func (s *Server) Routes(r chi.Router) {
	r = r.With(s.observe, plainInput)
	r.Get("/api/v1/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(OpenAPI)
	})
	r.Get("/api/v1/services", s.services)
	r.With(s.authenticate(s.CacheKeys)).Post("/api/v1/messages", s.sendMessages)
	r.Group(func(r chi.Router) {
		r.Use(s.authenticate(false))
		r.Get("/api/v1/cases", s.listCases)
		r.Get("/api/v1/cases/{ref}", s.getCase)
		r.Post("/api/v1/cases/{ref}/events", s.moveCase)
		r.Get("/api/v1/messages", s.listMessages)
		r.Get("/api/v1/messages/{id}", s.getMessage)
		r.Get("/api/v1/callback", s.getCallback)
		r.Put("/api/v1/callback", s.putCallback)
		r.Delete("/api/v1/callback", s.deleteCallback)
		r.Post("/api/v1/campaigns", s.createCampaign)
		r.Get("/api/v1/campaigns", s.listCampaigns)
		r.Get("/api/v1/campaigns/{id}", s.getCampaign)
		r.Post("/api/v1/campaigns/{id}/{action}", s.moveCampaign)
	})
}

// observe tells Observe of each request, under its route's pattern.
func (s *Server) observe(next http.Handler) http.Handler {
	if s.Observe == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := r.Method + " " + chi.RouteContext(r.Context()).RoutePattern()
		code := ww.Status()
		if code == 0 {
			code = http.StatusOK // nothing written: net/http answers 200
		}
		s.Observe(route, code, time.Since(began))
	})
}

type ownerKey struct{}

// authed is the key a request came with, and its hash.
type authed struct {
	key  apikey.Key
	hash []byte
}

// authenticate finds the request's key (in the cache when cached) and
// refuses the request without one in force, or over its requests a
// second.
func (s *Server) authenticate(cached bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := r.Header.Get("X-Api-Key")
			if a := r.Header.Get("Authorization"); key == "" && len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
				key = strings.TrimSpace(a[7:])
			}
			if key == "" {
				writeProblem(w, r, http.StatusUnauthorized, "an API key is required (Authorization: Bearer KEY)")
				return
			}
			now := s.now()
			hash := apikey.Hash(key)
			k, fromCache, err := s.findKey(r, hash, cached, now)
			if err != nil {
				s.refuseKey(w, r, k, err)
				return
			}
			if ok, err := s.limitRate(r.Context(), k, now); err != nil {
				s.fail(w, r, err)
				return
			} else if !ok {
				if fromCache { // a key refused is refused for what it is first
					if k, _, err := s.findKey(r, hash, false, now); err != nil {
						s.keys.forget(hash)
						s.refuseKey(w, r, k, err)
						return
					}
				}
				w.Header().Set("Retry-After", "1")
				writeProblem(w, r, http.StatusTooManyRequests, "over this key's requests a second: try again in a second")
				return
			}
			if now.Sub(k.LastUsed) >= apikey.TouchEvery {
				if err := s.Keys.TouchAPIKey(r.Context(), k.ID, now); err != nil {
					s.Log.Warn("recording the use of an API key", "key_id", k.ID, "err", err) // the request goes on
				} else if cached {
					s.keys.touched(hash, now)
				}
			}
			if fromCache {
				// An answer other than a success or a 401 is given only
				// once the key is known to be in force still: a revoked
				// key's bad request hears 401, as it would have.
				orig := w
				w = &confirming{ResponseWriter: orig, confirm: func() bool {
					if k, _, err := s.findKey(r, hash, false, now); err != nil {
						s.keys.forget(hash)
						orig.Header().Del("Retry-After")
						s.refuseKey(orig, r, k, err)
						return true
					}
					return false
				}}
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ownerKey{}, authed{k, hash})))
		})
	}
}

// confirming is the answer to a request whose key came from the cache:
// before an error other than 401 goes out, confirm looks the key up, and
// answers 401 instead (true) if it is no longer in force.
type confirming struct {
	http.ResponseWriter
	confirm       func() bool
	wrote, refuse bool
}

func (c *confirming) WriteHeader(code int) {
	if c.wrote {
		return
	}
	c.wrote = true
	if code >= 400 && code != http.StatusUnauthorized && c.confirm() {
		c.refuse = true
		return
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *confirming) Write(b []byte) (int, error) {
	if !c.wrote {
		c.WriteHeader(http.StatusOK)
	}
	if c.refuse {
		return len(b), nil // the 401 was written instead
	}
	return c.ResponseWriter.Write(b)
}

// findKey returns the key of hash if it is in force at now, from the
// cache when cached and it is there (and whether it was), else from the
// store (then cached when cached).
func (s *Server) findKey(r *http.Request, hash []byte, cached bool, now time.Time) (apikey.Key, bool, error) {
	if cached {
		if k, ok := s.keys.get(hash, now); ok {
			if err := k.Usable(now); err != nil {
				s.keys.forget(hash)
				return k, true, err
			}
			return k, true, nil
		}
	}
	k, err := s.Keys.APIKey(r.Context(), hash)
	if err != nil {
		return k, false, err
	}
	if err := k.Usable(now); err != nil {
		return k, false, err
	}
	if cached {
		s.keys.put(hash, k, now)
	}
	return k, false, nil
}

// refuseKey answers a request whose key k findKey refused.
func (s *Server) refuseKey(w http.ResponseWriter, r *http.Request, k apikey.Key, err error) {
	switch guichet.ErrorCode(err) {
	case guichet.ENOTFOUND:
		s.Log.Warn("refused an unknown API key", "remote", r.RemoteAddr, "path", r.URL.Path)
		writeProblem(w, r, http.StatusUnauthorized, "unknown API key")
	case guichet.EUNAUTHORIZED:
		s.Log.Warn("refused an API key", "key_id", k.ID, "owner", k.Owner, "path", r.URL.Path, "err", err)
		writeError(w, r, err)
	default:
		s.fail(w, r, err)
	}
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// apiKey is the API key the request came with, authenticated.
func apiKey(r *http.Request) apikey.Key { return r.Context().Value(ownerKey{}).(authed).key }

// owner is the administration the request acts for.
func owner(r *http.Request) string { return apiKey(r).Owner }

// Service is a catalogue entry as the API shows it.
type Service struct {
	ID       string                `json:"id"`
	Title    menus.Text            `json:"title"`
	Category string                `json:"category"`
	Critical bool                  `json:"critical"`
	Owner    string                `json:"owner"`
	Channels []string              `json:"channels"`
	Statuses map[string]StatusInfo `json:"statuses,omitempty"`
}

// StatusInfo is one step of a service's life cycle.
type StatusInfo struct {
	Label menus.Text `json:"label"`
	Next  []string   `json:"next"`
}

func (s *Server) services(w http.ResponseWriter, r *http.Request) {
	out := make([]Service, 0, len(s.Catalogue.Services))
	for _, svc := range s.Catalogue.Services {
		sv := Service{ID: svc.ID, Title: svc.Title, Category: svc.Category, Critical: svc.Critical,
			Owner: svc.Owner, Channels: svc.Channels}
		if sv.Channels == nil {
			sv.Channels = []string{}
		}
		if len(svc.Statuses) > 0 {
			sv.Statuses = map[string]StatusInfo{}
			for name, st := range svc.Statuses {
				next := st.Next
				if next == nil {
					next = []string{}
				}
				sv.Statuses[name] = StatusInfo{Label: st.Label, Next: next}
			}
		}
		out = append(out, sv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	writeJSON(w, http.StatusOK, map[string]any{"services": out})
}

// Case is a case as its owner's back office sees it.
type Case struct {
	Ref         string            `json:"ref"`
	Service     string            `json:"service"`
	Status      string            `json:"status"`
	StatusLabel menus.Text        `json:"status_label"`
	Next        []string          `json:"next"` // the statuses it may move to
	Phone       string            `json:"phone"`
	Lang        string            `json:"lang"`
	Channel     string            `json:"channel"`
	Data        map[string]string `json:"data"`
	Opened      time.Time         `json:"opened"`
	Updated     time.Time         `json:"updated"`
	History     []Event           `json:"history"`
}

// Event is one step of a case's history.
type Event struct {
	Status  string    `json:"status"`
	At      time.Time `json:"at"`
	Channel string    `json:"channel"`
	Who     string    `json:"who"`
	Note    string    `json:"note,omitempty"`
}

func (s *Server) caseJSON(c cases.Case) Case {
	out := Case{Ref: c.Ref, Service: c.Service, Status: c.Status, Phone: c.Phone, Lang: c.Lang, Channel: c.Channel,
		Data: c.Data, Opened: c.Opened, Updated: c.Updated, StatusLabel: menus.Text{}, Next: []string{}, History: []Event{}}
	if out.Data == nil {
		out.Data = map[string]string{}
	}
	if svc := s.Catalogue.Services[c.Service]; svc != nil {
		if st := svc.Statuses[c.Status]; st != nil {
			out.StatusLabel = st.Label
			out.Next = append(out.Next, st.Next...)
		}
	}
	for _, e := range c.History {
		out.History = append(out.History, Event{Status: e.Status, At: e.At, Channel: e.Channel, Who: e.Who, Note: e.Note})
	}
	return out
}

// fail answers err, and logs it when it is not the client's doing: the
// client only learns "internal error".
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if code := guichet.ErrorCode(err); code == guichet.EINTERNAL || code == guichet.EUNAVAILABLE {
		s.Log.Error("API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, r, err)
}

func (s *Server) getCase(w http.ResponseWriter, r *http.Request) {
	c, err := s.Cases.Case(r.Context(), chi.URLParam(r, "ref"), owner(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.auditRead(r, "api.case", c.Ref, "", []string{c.Phone}); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.caseJSON(c))
}

// auditRead records, in the console's audit log, that the request's key
// read citizens' data: one entry a request, its actor the key's owner
// ("api:civil-status"), the numbers and references it returned as its
// subjects. A read that cannot be recorded is not answered, as in the
// console.
func (s *Server) auditRead(r *http.Request, action, subject, detail string, shown []string) error {
	if s.Audit == nil {
		return nil
	}
	k := apiKey(r)
	detail = strings.TrimSpace("key " + k.ID + " " + detail)
	if err := s.Audit.Audit(r.Context(), staff.AuditEntry{At: s.now(), User: "api:" + k.Owner, Action: action, Subject: subject,
		Detail: detail, Shown: shown}); err != nil {
		return fmt.Errorf("recording a read in the audit log: %w", err)
	}
	return nil
}

// query says a list's filter for the audit log: its parameters, in order.
func query(r *http.Request, names ...string) string {
	var q []string
	for _, n := range names {
		if v := r.URL.Query().Get(n); v != "" {
			q = append(q, n+"="+v)
		}
	}
	return strings.Join(q, " ")
}

// MaxLimit bounds a page of cases.
const MaxLimit = 500

func (s *Server) listCases(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := cases.CaseFilter{Status: q.Get("status"), After: q.Get("after"), Limit: 50}
	if svc := q.Get("service"); svc != "" {
		f.Services = []string{svc}
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxLimit {
			writeProblem(w, r, http.StatusBadRequest, "limit must be a whole number from 1 to "+strconv.Itoa(MaxLimit))
			return
		}
		f.Limit = n
	}
	cases, err := s.Cases.Cases(r.Context(), f, owner(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		Cases []Case `json:"cases"`
		Next  string `json:"next,omitempty"` // pass it as after= for the next page
	}{Cases: make([]Case, 0, len(cases))}
	for _, c := range cases {
		out.Cases = append(out.Cases, s.caseJSON(c))
	}
	if len(cases) == f.Limit {
		out.Next = cases[len(cases)-1].Ref
	}
	if len(cases) > 0 { // an empty page, a back office polling, shows nobody
		var shown []string
		for _, c := range cases {
			shown = append(shown, c.Ref)
			if !slices.Contains(shown, c.Phone) {
				shown = append(shown, c.Phone)
			}
		}
		if err := s.auditRead(r, "api.cases", "", fmt.Sprintf("%d cases %s", len(cases), query(r, "service", "status", "after", "limit")), shown); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// MaxKey bounds an Idempotency-Key header.
const MaxKey = 200

// MoveRequest is the body of POST /api/v1/cases/{ref}/events. A request
// with an Idempotency-Key header that repeats an earlier one (a retry after
// a timeout) changes nothing and answers the case as it is.
type MoveRequest struct {
	Status string `json:"status"`
	Note   string `json:"note"` // optional: sent to the citizen with the new status
}

func (s *Server) moveCase(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		writeProblem(w, r, http.StatusUnsupportedMediaType, "send the body as application/json")
		return
	}
	var req MoveRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeProblem(w, r, http.StatusRequestEntityTooLarge, "the body is over 64 KiB")
			return
		}
		writeProblem(w, r, http.StatusBadRequest, "malformed JSON body: "+err.Error())
		return
	}
	if dec.Decode(&struct{}{}) != io.EOF {
		writeProblem(w, r, http.StatusBadRequest, "the body must hold one JSON object")
		return
	}
	switch {
	case req.Status == "":
		writeProblem(w, r, http.StatusBadRequest, "status is required")
		return
	case !utf8.ValidString(req.Note) || strings.ContainsRune(req.Note, utf8.RuneError):
		writeProblem(w, r, http.StatusBadRequest, "note is not valid UTF-8")
		return
	case utf8.RuneCountInString(req.Note) > MaxNote:
		writeProblem(w, r, http.StatusBadRequest, "note is over "+strconv.Itoa(MaxNote)+" characters")
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > MaxKey || !utf8.ValidString(key) {
		writeProblem(w, r, http.StatusBadRequest, "Idempotency-Key is over "+strconv.Itoa(MaxKey)+" characters or not UTF-8")
		return
	}
	who := owner(r)
	c, err := s.Cases.MoveCaseOnce(r.Context(), chi.URLParam(r, "ref"),
		cases.Move{Status: req.Status, Note: strings.TrimSpace(req.Note), Who: "api:" + who, Channel: "api", At: s.now()}, who, key)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.Log.Info("case moved", "case_ref", c.Ref, "status", c.Status, "owner", who)
	writeJSON(w, http.StatusCreated, s.caseJSON(c))
}
