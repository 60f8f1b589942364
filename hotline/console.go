// Package hotline is the console of the free helpline (numéro vert): its
// operators find a caller by phone number or case reference, see their
// cases, bookings, SMS and USSD sessions, act for them through the same
// code as the other channels, walk the menus on their behalf, work the
// callback queue; supervisors read the audit log and a dashboard of where
// callers drop off. Pages are rendered on the server (html/template) and
// work without JavaScript.
package hotline

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/campaigns"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/phone"
	"github.com/guichet/guichet/staff"
	"github.com/guichet/guichet/ussd"
)

// Cases is what the console asks of the case engine (cases.Service).
type Cases interface {
	Case(ctx context.Context, ref, owner string) (cases.Case, error)
	Cases(ctx context.Context, f cases.CaseFilter, owner string) ([]cases.Case, error)
	MoveCase(ctx context.Context, ref string, m cases.Move, owner string) (cases.Case, error)
	NoteCase(ctx context.Context, ref, note, who, channel string) (cases.Case, error)
	Do(ctx context.Context, c menus.Call) (menus.Result, error)
}

// Records is what the console reads and writes in the case store
// (cases.Memory, postgres.Cases): bookings and the callback queue.
type Records interface {
	Bookings(ctx context.Context, phone string, from time.Time) ([]cases.Booking, error)
	Callbacks(ctx context.Context, open bool, limit int) ([]cases.Callback, error)
	CallbacksOf(ctx context.Context, phone string) ([]cases.Callback, error)
	TakeCallback(ctx context.Context, ticket, who string, now time.Time) (cases.Callback, error)
	CloseCallback(ctx context.Context, ticket, who string, now time.Time) (cases.Callback, error)
}

// Outbox is what the console reads and writes in the outbox
// (outbox.Memory, postgres.Outbox): a caller's SMS, the SMS an operator
// sends, the delivery counts of the dashboard.
type Outbox interface {
	Messages(ctx context.Context, phone string, limit int) ([]outbox.Message, error)
	Enqueue(ctx context.Context, msgs []outbox.Message) error
	DeliveryCounts(ctx context.Context, from, to time.Time) ([]outbox.DeliveryCount, error)
}

// Accounts is what the console does with its users' accounts and browser
// sessions (staff.Memory, postgres.Console; their contract is stafftest's).
type Accounts interface {
	AddUser(ctx context.Context, u staff.User) error
	User(ctx context.Context, name string) (staff.User, error)
	Users(ctx context.Context) ([]staff.User, error)
	UpdateUser(ctx context.Context, u staff.User) error
	Attempt(ctx context.Context, now time.Time, strikes []staff.Strike) (staff.Verdict, error)
	Succeeded(ctx context.Context, now time.Time, strikes []staff.Strike) error
	Noticed(ctx context.Context, key string, now time.Time, every time.Duration) (bool, error)
	CreateSession(ctx context.Context, s staff.Session) error
	Session(ctx context.Context, tokenHash string, now time.Time, idle time.Duration) (staff.Session, error)
	DeleteSession(ctx context.Context, tokenHash string) error
	DeleteSessions(ctx context.Context, user, keep string) error
}

// Trail is what the console writes and reads of the audit log and of how
// callers' sessions ended.
type Trail interface {
	Audit(ctx context.Context, e staff.AuditEntry) error
	AuditLog(ctx context.Context, f staff.AuditFilter) ([]staff.AuditEntry, error)
	RecentSessions(ctx context.Context, phone string, limit int) ([]staff.SessionRecord, error)
	SessionCounts(ctx context.Context, from, to time.Time) ([]staff.HourCount, []staff.EndCount, error)
}

// Stepper runs one hop of a USSD dialogue (ussd.Engine).
type Stepper interface {
	Step(ctx context.Context, req ussd.Request) (ussd.Reply, error)
}

// Console serves the hotline's pages under the prefix it is mounted at.
type Console struct {
	Accounts  Accounts
	Trail     Trail
	Cases     Cases
	Records   Records
	Outbox    Outbox
	Engine    Stepper
	Catalogue *menus.Catalogue
	Campaigns campaigns.Store // nil: no campaigns page
	// Citizens exports and erases a number's data (PostgreSQL); nil: the
	// page says it needs a database. Cache is the session store whose
	// copy of an erased number's language and dialogues (its own, and
	// those assisted by the hotline) goes with it.
	Citizens Citizens
	Cache    Cache
	// CacheKeys, if set, names more keys of a phone that an erasure
	// deletes from Cache: those of the channels the console does not know
	// (the SMS dialogue's, the web's sign-in code).
	CacheKeys func(phone string) []string
	Region    string // numbers typed without a country code (CM)
	Prefix    string // where the console is mounted: "/hotline"
	// Secure marks cookies Secure: set it whenever the console is served
	// over HTTPS (everywhere but a loopback demo).
	Secure bool
	// IdleTimeout ends a session unused this long (0: IdleFor); sessions
	// end SessionFor after sign-in whatever their use.
	IdleTimeout time.Duration
	// OneTimeFor is how long a password an administrator gives (to be
	// changed at first sign-in) signs in (0: staff.OneTimeFor).
	OneTimeFor time.Duration
	// TrustedProxies are the proxies whose X-Forwarded-For tells a
	// request's address (for the sign-in backoffs); requests from
	// anywhere else come from their TCP peer.
	TrustedProxies []netip.Prefix
	// TryBackoff, NameBackoff and AddressBackoff slow down sign-in
	// attempts on one name from one address, on one name, from one
	// address (zero: DefaultTryBackoff, DefaultNameBackoff,
	// DefaultAddressBackoff).
	TryBackoff, NameBackoff, AddressBackoff staff.Backoff
	Now                                     func() time.Time
	Log                                     *slog.Logger

	pages   map[string]*template.Template
	signIns signInCounts
}

// MaxUpload bounds a form with a file: a campaign's audience.
const MaxUpload = 8 << 20

//go:embed templates/*.html
var templateFS embed.FS

func (c *Console) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Init parses the templates; Routes calls it.
func (c *Console) Init() error {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Region == "" {
		c.Region = "CM"
	}
	pages, err := parsePages()
	if err != nil {
		return err
	}
	c.pages = pages
	return nil
}

// Routes mounts the console on r (at the prefix the caller chose).
func (c *Console) Routes(r chi.Router) error {
	if err := c.Init(); err != nil {
		return err
	}
	cop := http.NewCrossOriginProtection()
	r.Use(c.recoverer, cop.Handler, securityHeaders)
	r.Get("/console.js", script)
	r.With(c.plainInput).Get("/signin", c.signInPage)
	r.With(c.plainInput).Post("/signin", c.signIn)
	r.Group(func(r chi.Router) {
		r.Use(c.authenticated, c.plainInput) // once the form is read, in the user's language
		r.Post("/signout", c.signOut)
		r.Group(func(r chi.Router) {
			r.Use(c.atLeast(staff.Operator)) // a disabled account (no role) sees nothing, nor changes its password
			r.Get("/password", c.passwordPage)
			r.Post("/password", c.changePassword)
		})
		r.Group(func(r chi.Router) {
			r.Use(c.passwordChanged, c.atLeast(staff.Operator))
			r.Get("/", c.home)
			r.Post("/lang", c.setLang)
			r.Get("/search", c.search)
			r.Get("/callers/{phone}", c.callerPage)
			r.Post("/callers/{phone}/sms", c.sendSMS)
			r.Post("/callers/{phone}/bookings/{ref}/cancel", c.cancelBooking)
			r.Post("/callers/{phone}/bookings/{ref}/move", c.moveBooking)
			r.Get("/cases/{ref}", c.casePage)
			r.Post("/cases/{ref}/move", c.moveCase)
			r.Post("/cases/{ref}/note", c.noteCase)
			r.Get("/callbacks", c.callbacksPage)
			r.Post("/callbacks/{ticket}/take", c.takeCallback)
			r.Post("/callbacks/{ticket}/done", c.closeCallback)
			r.Get("/assist/{phone}", c.assistPage)
			r.Post("/assist/{phone}", c.assistStep)
			r.Group(func(r chi.Router) {
				r.Use(c.atLeast(staff.Supervisor))
				r.Get("/dashboard", c.dashboard)
				r.Get("/audit", c.auditPage)
				r.Get("/phone", c.phonePage)
				r.Post("/phone", c.phoneStep)
				if c.Campaigns != nil {
					r.Get("/campaigns", c.campaignsPage)
					r.Post("/campaigns", c.createCampaign)
					r.Get("/campaigns/{id}", c.campaignPage)
					r.Post("/campaigns/{id}/{action}", c.moveCampaign)
				}
			})
			r.Group(func(r chi.Router) {
				r.Use(c.atLeast(staff.Admin))
				r.Get("/users", c.usersPage)
				r.Post("/users", c.addUser)
				r.Post("/users/{name}/role", c.setRole)
				r.Get("/citizen", c.citizenPage)
				r.Post("/citizen/export", c.exportCitizen)
				r.Post("/citizen/erase", c.eraseCitizen)
			})
		})
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, guichet.Errorf(guichet.ENOTFOUND, "page not found"))
	})
	return nil
}

//go:embed static/console.js
var consoleJS []byte

// script serves the console's one script: the pages' content security
// policy runs no inline script, attribute or javascript: URL.
func script(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Write(consoleJS)
}

// securityHeaders keeps the pages out of frames and other sites' reach,
// and runs only the console's own script.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; script-src 'self'; frame-ancestors 'none'")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// recoverer turns a panic into the error page: never a stack trace.
func (c *Console) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				c.Log.Error("console page panicked", "route", route(r), "panic", fmt.Sprint(v))
				c.fail(w, r, errors.New("panic"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type ctxKey int

const (
	userKey ctxKey = iota
	sessionKey
)

func userOf(r *http.Request) (staff.User, bool) {
	u, ok := r.Context().Value(userKey).(staff.User)
	return u, ok
}

func sessionOf(r *http.Request) staff.Session {
	s, _ := r.Context().Value(sessionKey).(staff.Session)
	return s
}

// authenticated lets signed-in users through, checks the CSRF token of
// every form they post, and sends the others to the sign-in page.
func (c *Console) authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(sessionCookie)
		if err != nil {
			c.toSignIn(w, r)
			return
		}
		s, err := c.Accounts.Session(r.Context(), hashToken(ck.Value), c.now(), c.idle())
		if err != nil {
			if guichet.ErrorCode(err) != guichet.ENOTFOUND {
				c.fail(w, r, err)
				return
			}
			c.clearCookie(w, sessionCookie)
			c.toSignIn(w, r)
			return
		}
		u, err := c.Accounts.User(r.Context(), s.User)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		if u.PasswordExpired(c.now()) { // a one-time password's session ends with it
			if err := c.Accounts.DeleteSession(r.Context(), s.TokenHash); err != nil {
				c.fail(w, r, err)
				return
			}
			c.clearCookie(w, sessionCookie)
			c.toSignIn(w, r)
			return
		}
		if r.Method == http.MethodPost {
			var err error
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") && r.URL.Path == c.path(r, "/campaigns") {
				// A campaign's audience file, the one form with a file: up
				// to 8 MiB, kept in memory. Any other multipart body is
				// not read (its token is not found: refused).
				r.Body = http.MaxBytesReader(w, r.Body, MaxUpload)
				err = r.ParseMultipartForm(MaxUpload)
			} else {
				r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
				err = r.ParseForm()
			}
			if err != nil || !sameToken(r.PostForm.Get("csrf"), s.CSRF) {
				c.failStatus(w, r, http.StatusForbidden, u.Lang, "csrf")
				return
			}
		}
		ctx := context.WithValue(context.WithValue(r.Context(), userKey, u), sessionKey, s)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// passwordChanged holds users with a one-time password on the password
// page until they choose their own.
func (c *Console) passwordChanged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, _ := userOf(r); u.MustChange {
			http.Redirect(w, r, c.path(r, "/password"), http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (c *Console) atLeast(min staff.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, _ := userOf(r); !u.Role.AtLeast(min) {
				c.failStatus(w, r, http.StatusForbidden, u.Lang, "forbidden")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func (c *Console) path(_ *http.Request, p string) string { return c.Prefix + p }

func (c *Console) toSignIn(w http.ResponseWriter, r *http.Request) {
	target := c.path(r, "/signin")
	if r.Method == http.MethodGet {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (c *Console) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: cmp.Or(c.Prefix, "/"), HttpOnly: true, Secure: c.Secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(maxAge.Seconds())})
}

func (c *Console) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: cmp.Or(c.Prefix, "/"), MaxAge: -1, HttpOnly: true, Secure: c.Secure})
}

// audit records what a user saw or did; a failure to record is logged and
// refuses nothing already done, but a view is refused when it cannot be
// recorded (see view).
func (c *Console) audit(ctx context.Context, u staff.User, action, subject, detail string, shown ...string) error {
	err := c.Trail.Audit(ctx, staff.AuditEntry{At: c.now(), User: u.Name, Action: action, Subject: subject, Detail: detail, Shown: shown})
	if err != nil {
		c.Log.Error("writing the audit log", "action", action, "err", err)
	}
	return err
}

// phonesOf lists the numbers of a page of callbacks, each once, in the
// order shown: the subjects of its view.
func phonesOf(lists ...[]cases.Callback) []string {
	var ps []string
	for _, l := range lists {
		for _, cb := range l {
			if !slices.Contains(ps, cb.Phone) {
				ps = append(ps, cb.Phone)
			}
		}
	}
	return ps
}

// phoneParam reads the {phone} of a path, escaped or not.
func (c *Console) phoneParam(r *http.Request) (string, error) {
	raw := chi.URLParam(r, "phone")
	if u, err := url.PathUnescape(raw); err == nil {
		raw = u
	}
	p, err := c.normalizePhone(raw)
	if err != nil {
		u, _ := userOf(r)
		return "", guichet.Errorf(guichet.EINVALID, "%s", tr(u.Lang, "search.badphone", raw))
	}
	return p, nil
}

// normalizePhone reads a number typed in any usual form.
func (c *Console) normalizePhone(s string) (string, error) {
	return phone.Normalize(strings.TrimSpace(s), c.Region)
}
