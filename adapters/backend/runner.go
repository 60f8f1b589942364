package backend

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/menus"
)

// MaxBody is the largest answer a connector reads: 1 MiB.
const MaxBody = 1 << 20

// minAttempt is the least time worth starting a retry with: a retry that
// the caller's deadline would cut shorter is not made.
const minAttempt = 50 * time.Millisecond

// Error is what a connector's call fails with: the domain error that the
// edges map to a screen or a status, and its cause, for logs and errors.Is.
type Error struct {
	Op      string // our operation, "cases.open"
	Backend string // Config.Name
	Err     *guichet.Error
	Cause   error
}

func (e *Error) Error() string {
	s := e.Err.Message
	if e.Op != "" {
		s = fmt.Sprintf("%s on %s: %s", e.Op, e.Backend, s)
	}
	cause := e.Cause
	if f, ok := cause.(*Failure); ok {
		cause = f.Err // its reason is already in the message
	}
	if cause != nil {
		s += ": " + cause.Error()
	}
	return s
}

// Unwrap gives errors.As the *guichet.Error first, then the cause.
func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}

// Failure is an attempt's failure on the backend's side: no answer in time,
// no connection, an HTTP or SOAP server error, an answer that cannot be used.
// It counts against the breaker and ends, after any retries, as
// EUNAVAILABLE.
type Failure struct {
	Reason string // for people: "HTTP 503 Service Unavailable", "no answer in time"
	Retry  bool   // transient: another attempt may succeed
	Unsent bool   // the request never left: another attempt cannot repeat its effect
	Err    error  // the cause, if any
	kind   string // Kind's, when the failure's maker knew it
}

// Kinds of failed attempts, as an Observer is told them: few, so that
// they can be a metric's label.
const (
	KindTimeout   = "timeout"   // no answer in time
	KindConnect   = "connect"   // no connection: nothing sent
	KindTLS       = "tls"       // the handshake failed
	KindStatus    = "status"    // an HTTP status (or SOAP fault) that says the server failed
	KindTransient = "transient" // another failure another attempt may not meet
	KindBroken    = "broken"    // an answer that cannot be used
	KindCancelled = "cancelled" // the caller gave up
	KindOpen      = "open"      // not attempted: the breaker is open
	KindInternal  = "internal"  // our own mistake, not the backend's
)

// Kind is the failure's kind (KindTimeout…).
func (f *Failure) Kind() string {
	switch {
	case f.kind != "":
		return f.kind
	case f.Retry:
		return KindTransient
	}
	return KindBroken
}

// Observer is told how each attempt at a backend went: how long one
// that the breaker let through took, and its failure's kind, or "" when
// the backend answered (a refusal it mapped included); Refused, when the
// breaker refused one. It runs on the caller's goroutine.
type Observer interface {
	Attempted(d time.Duration, kind string)
	Refused()
}

func kinded(f *Failure, kind string) *Failure {
	f.kind = kind
	return f
}

func (f *Failure) Error() string {
	if f.Err == nil {
		return f.Reason
	}
	return f.Reason + ": " + f.Err.Error()
}

func (f *Failure) Unwrap() error { return f.Err }

// Transient returns a failure that another attempt may not meet.
func Transient(err error, format string, args ...any) *Failure {
	return &Failure{Reason: fmt.Sprintf(format, args...), Retry: true, Err: err}
}

// Broken returns a failure that another attempt would meet again: an answer
// that cannot be used, a refused certificate.
func Broken(err error, format string, args ...any) *Failure {
	return &Failure{Reason: fmt.Sprintf(format, args...), Err: err}
}

// Transport classifies an error of http.Client.Do: timeouts and connection
// errors are transient (and a failed dial sent nothing); a failed TLS
// handshake is not.
func Transport(err error) *Failure {
	var (
		netErr   net.Error
		opErr    *net.OpError
		alert    tls.AlertError
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		header   tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return kinded(Transient(err, "no answer in time"), KindTimeout)
	case errors.Is(err, context.Canceled):
		return kinded(Transient(err, "call cancelled"), KindCancelled)
	case errors.As(err, &alert), errors.As(err, &verify), errors.As(err, &unknown),
		errors.As(err, &hostname), errors.As(err, &invalid), errors.As(err, &header):
		return kinded(Broken(err, "TLS handshake failed"), KindTLS)
	case errors.As(err, &opErr) && opErr.Op == "remote error":
		return kinded(Broken(err, "refused by the server's TLS"), KindTLS) // a TLS alert: our certificate, most likely
	case errors.As(err, &opErr) && opErr.Op == "dial":
		f := kinded(Transient(err, "cannot connect"), KindConnect)
		f.Unsent = true
		return f
	}
	return Transient(err, "connection failed")
}

// Status classifies an HTTP status that no mapping claimed: 502, 503 and 504
// are transient, anything else is not.
func Status(resp *http.Response) *Failure {
	err := fmt.Errorf("HTTP %s", resp.Status)
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return kinded(Transient(nil, "%v", err), KindStatus)
	}
	return kinded(Broken(nil, "%v", err), KindStatus)
}

// ReadBody reads resp's body, at most MaxBody bytes, and closes it.
func ReadBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return nil, Transport(err)
	}
	if len(body) > MaxBody {
		return nil, Broken(nil, "answer over %d bytes", MaxBody)
	}
	return body, nil
}

// Refuse returns the error for a backend's refusal that the backend named
// name explained with theirs ("CASE_UNKNOWN", "HTTP 404") and that maps to
// our code ours: a business error (not retried, not held against the
// backend), or a Failure for EUNAVAILABLE.
func Refuse(name, ours, theirs string, cause error) error {
	var msg string
	switch ours {
	case guichet.EUNAVAILABLE:
		return Broken(cause, "%s says it is unavailable (%s)", name, theirs)
	case guichet.ENOTFOUND:
		msg = "not found by %s (%s)"
	case guichet.ECONFLICT:
		msg = "refused by %s: conflict (%s)"
	case guichet.EINVALID:
		msg = "refused by %s as invalid (%s)"
	default:
		msg = "refused by %s (%s)"
	}
	return &Error{Err: guichet.Errorf(ours, msg, name, theirs), Cause: cause}
}

// MapError returns our code for the first of the backend's codes theirs
// that op.Errors maps, with that code.
func (op Operation) MapError(theirs ...string) (ours, code string, ok bool) {
	for _, t := range theirs {
		if t == "" {
			continue
		}
		if ours, ok := op.Errors[t]; ok {
			return ours, t, true
		}
	}
	return "", "", false
}

// Runner makes the attempts of a backend's calls: each with its own
// deadline, through the breaker, with retries after a transient failure when
// that is safe. It is safe for concurrent use.
type Runner struct {
	name    string
	timeout time.Duration
	retries int
	backoff time.Duration
	breaker *Breaker
	obs     Observer
}

// NewRunner returns a runner for cfg, whose breaker reads the time from now
// (time.Now if nil).
func NewRunner(cfg Config, now func() time.Time) *Runner {
	cfg = cfg.WithDefaults()
	return &Runner{
		name:    cfg.Name,
		timeout: cfg.Timeout,
		retries: *cfg.Retries,
		backoff: cfg.Backoff,
		breaker: NewBreaker(cfg.Breaker, now),
		obs:     cfg.Observer,
	}
}

// Breaker returns the runner's breaker.
func (r *Runner) Breaker() *Breaker { return r.breaker }

// Run makes the attempts of the call op. attempt returns the result, or a
// *Failure, or a refusal from Refuse, or any other error (our own mistake,
// returned as it is). A failure is retried if it is transient, retries are
// left, the caller's deadline leaves time, and either the request was never
// sent or repeatable says that repeating it is harmless (an idempotent
// operation, or a key that the backend honours).
func (r *Runner) Run(ctx context.Context, op string, repeatable bool, attempt func(ctx context.Context) (menus.Result, error)) (menus.Result, error) {
	if err := ctx.Err(); err != nil {
		// Called with no time left: not the backend's fault.
		return menus.Result{}, r.unavailable(op, Transient(err, "no time left to call it"), 0)
	}
	var last *Failure
	for n := 1; ; n++ {
		done, err := r.breaker.Allow()
		if err != nil {
			if r.obs != nil {
				r.obs.Refused()
			}
			if last != nil { // the last failure opened it: say what it was
				return menus.Result{}, r.unavailable(op, last, n-1)
			}
			return menus.Result{}, r.unavailable(op, Broken(err, "not called after repeated failures"), 0)
		}
		actx, cancel := context.WithTimeout(ctx, r.timeout)
		began := time.Now()
		res, err := attempt(actx)
		took := time.Since(began)
		cancel()
		if r.obs != nil {
			r.obs.Attempted(took, r.kind(ctx, err))
		}
		if err == nil {
			done(Succeeded)
			return res, nil
		}

		var e *Error
		if errors.As(err, &e) {
			done(Succeeded) // the backend answered
			e.Op, e.Backend = op, r.name
			return menus.Result{}, e
		}
		var f *Failure
		if !errors.As(err, &f) {
			done(Abandoned)
			return menus.Result{}, fmt.Errorf("%s on %s: %w", op, r.name, err)
		}
		if errors.Is(ctx.Err(), context.Canceled) {
			done(Abandoned)
			return menus.Result{}, r.unavailable(op, Transient(ctx.Err(), "call cancelled"), n)
		}
		done(Failed)
		last = f
		if ctx.Err() != nil || !f.Retry || n > r.retries || !(repeatable || f.Unsent) {
			return menus.Result{}, r.unavailable(op, f, n)
		}
		wait := r.wait(n)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait+minAttempt {
			return menus.Result{}, r.unavailable(op, f, n)
		}
		if err := sleep(ctx, wait); err != nil {
			return menus.Result{}, r.unavailable(op, f, n)
		}
	}
}

// kind is what an attempt's err says of it, for the Observer: "" when
// the backend answered.
func (r *Runner) kind(ctx context.Context, err error) string {
	var (
		e *Error
		f *Failure
	)
	switch {
	case err == nil, errors.As(err, &e):
		return ""
	case !errors.As(err, &f):
		return KindInternal
	case errors.Is(ctx.Err(), context.Canceled):
		return KindCancelled
	}
	return f.Kind()
}

// wait returns the backoff before retry n (1 for the first): the backoff
// doubled n-1 times, less up to half of it at random.
func (r *Runner) wait(n int) time.Duration {
	d := r.backoff << (n - 1)
	if half := int64(d / 2); half > 0 {
		d -= time.Duration(rand.Int64N(half))
	}
	return d
}

// unavailable returns the EUNAVAILABLE error of op after f and n attempts.
func (r *Runner) unavailable(op string, f *Failure, n int) error {
	msg := fmt.Sprintf("%s is unavailable: %s", r.name, f.Reason)
	if n > 1 {
		msg += fmt.Sprintf(" (%d attempts)", n)
	}
	return &Error{Op: op, Backend: r.name, Err: &guichet.Error{Code: guichet.EUNAVAILABLE, Message: msg}, Cause: f}
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
