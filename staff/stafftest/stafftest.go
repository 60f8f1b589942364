// Package stafftest holds the contract that every store of the hotline
// console's people keeps (staff.Accounts and staff.Trail): run it from
// each implementation's tests with Run.
package stafftest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/staff"
)

// Store is one implementation's accounts and trail, on one database.
type Store struct {
	Accounts
	Trail
}

// Accounts keeps the console's accounts and browser sessions: in memory
// (Memory) or in PostgreSQL (postgres.Console). Failures are
// *guichet.Error values with the codes given.
type Accounts interface {
	// AddUser creates u; ECONFLICT if the name is taken.
	AddUser(ctx context.Context, u staff.User) error
	// staff.User returns one account; ENOTFOUND if there is none.
	User(ctx context.Context, name string) (staff.User, error)
	// Users lists the accounts by name.
	Users(ctx context.Context) ([]staff.User, error)
	// UpdateUser replaces the stored account of u.Name (role, language,
	// hash, MustChange, PasswordExpires, full name); ENOTFOUND if there is
	// none.
	UpdateUser(ctx context.Context, u staff.User) error

	// Attempt reserves a sign-in attempt at now against the keys of
	// strikes (an account's name, known or not; an address), before its
	// password is checked, atomically: while any key is waiting (now
	// before the time its failures set) it counts nothing and answers
	// which keys wait and until when; otherwise it counts the attempt as
	// a failure in a row against each key, forgetting the failures of a
	// key whose latest is its Backoff.Forget old, sets when each key's
	// next attempt may come (Backoff.Delay) and answers OK. So parallel
	// guesses get a key's Free tries at once in all, not one each. A
	// right password then calls Succeeded. In PostgreSQL the failures are
	// the fleet's.
	Attempt(ctx context.Context, now time.Time, strikes []staff.Strike) (staff.Verdict, error)
	// Succeeded takes back the attempt Attempt counted with strikes: the
	// failures of a key that is not Shared are forgotten; a Shared key
	// loses this one failure, and waits as its others say.
	Succeeded(ctx context.Context, now time.Time, strikes []staff.Strike) error
	// Noticed reports whether key's failures may be written to the audit
	// log at now, once per every: true, and remembered, when they never
	// were or were every ago or more; false otherwise, and for a key
	// with no failures.
	Noticed(ctx context.Context, key string, now time.Time, every time.Duration) (bool, error)

	// CreateSession stores s (LastSeen zero: Created).
	CreateSession(ctx context.Context, s staff.Session) error
	// staff.Session returns the session whose token hashes to tokenHash,
	// if at now it has neither expired nor been idle (unused) for idle
	// since its LastSeen (idle 0: no idle timeout), and moves its
	// LastSeen to now; ENOTFOUND otherwise.
	Session(ctx context.Context, tokenHash string, now time.Time, idle time.Duration) (staff.Session, error)
	// DeleteSession signs a browser out; deleting a missing one is no
	// error.
	DeleteSession(ctx context.Context, tokenHash string) error
	// DeleteSessions signs user out of every browser but the session
	// whose token hashes to keep ("": all of them).
	DeleteSessions(ctx context.Context, user, keep string) error
}

// Trail keeps what the console must be able to tell later: the audit log
// of what operators did, and the record of how USSD sessions ended. In
// memory (Memory) or in PostgreSQL (postgres.Console).
type Trail interface {
	// Audit appends e (its ID is assigned).
	Audit(ctx context.Context, e staff.AuditEntry) error
	// AuditLog returns the entries f selects, newest first.
	AuditLog(ctx context.Context, f staff.AuditFilter) ([]staff.AuditEntry, error)

	// RecordSessions appends ended sessions.
	RecordSessions(ctx context.Context, rs []staff.SessionRecord) error
	// RecentSessions returns a phone's latest sessions, newest first, at
	// most limit (0: 20).
	RecentSessions(ctx context.Context, phone string, limit int) ([]staff.SessionRecord, error)
	// SessionCounts counts the sessions that ended in [from, to): per hour
	// and service, and per service, node and result.
	SessionCounts(ctx context.Context, from, to time.Time) ([]staff.HourCount, []staff.EndCount, error)
}

// Run runs the contract suite. newStore returns a fresh, empty store; it
// is called once per subtest.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s Store)
	}{
		{"AddUser", testAddUser},
		{"Users", testUsers},
		{"UpdateUser", testUpdateUser},
		{"Attempt", testAttempt},
		{"AttemptWaits", testAttemptWaits},
		{"AttemptConcurrent", testAttemptConcurrent},
		{"Succeeded", testSucceeded},
		{"Noticed", testNoticed},
		{"Sessions", testSessions},
		{"SessionExpires", testSessionExpires},
		{"SessionIdle", testSessionIdle},
		{"DeleteSessions", testDeleteSessions},
		{"Audit", testAudit},
		{"AuditFilter", testAuditFilter},
		{"AuditShown", testAuditShown},
		{"AuditLimit", testAuditLimit},
		{"RecentSessions", testRecentSessions},
		{"SessionCounts", testSessionCounts},
		{"CancelledContext", testCancelledContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newStore(t)) })
	}
}

// t0 is a fixed "now", in whole seconds so that every store keeps it
// exactly; wat is Cameroon's zone, an hour ahead of UTC.
var (
	wat = time.FixedZone("WAT", 3600)
	t0  = time.Date(2026, time.November, 30, 8, 0, 0, 0, time.UTC)
)

// wantCode fails t unless err carries the code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := guichet.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// user returns an account named name with every field set.
func user(name string) staff.User {
	return staff.User{
		Name: name, FullName: "Awa " + name, Role: staff.Operator, Lang: "fr",
		Hash: []byte("$2a$10$" + name), MustChange: true, PasswordExpires: t0.Add(time.Hour),
		Created: t0.Add(-24 * time.Hour),
	}
}

// sameUser reports whether a and b are the same account, whatever the
// time zones of their times.
func sameUser(a, b staff.User) bool {
	return a.Name == b.Name && a.FullName == b.FullName && a.Role == b.Role && a.Lang == b.Lang &&
		bytes.Equal(a.Hash, b.Hash) && a.MustChange == b.MustChange && a.PasswordExpires.Equal(b.PasswordExpires) &&
		a.Created.Equal(b.Created)
}

func sameSession(a, b staff.Session) bool {
	return a.TokenHash == b.TokenHash && a.User == b.User && a.CSRF == b.CSRF &&
		a.Created.Equal(b.Created) && a.Expires.Equal(b.Expires) && a.LastSeen.Equal(b.LastSeen)
}

func sameEntry(a, b staff.AuditEntry) bool {
	return a.ID == b.ID && a.At.Equal(b.At) && a.User == b.User && a.Action == b.Action &&
		a.Subject == b.Subject && a.Detail == b.Detail && slices.Equal(a.Shown, b.Shown)
}

func sameRecord(a, b staff.SessionRecord) bool {
	return a.At.Equal(b.At) && a.Phone == b.Phone && a.Operator == b.Operator && a.Service == b.Service &&
		a.Node == b.Node && a.Result == b.Result && a.Hops == b.Hops && a.Duration == b.Duration
}

// testCancelledContext calls every method with a cancelled context: each
// fails with context.Canceled, and none writes.
func testCancelledContext(t *testing.T, s Store) {
	ctx := t.Context()
	noErr(t, s.AddUser(ctx, user("awa")))
	noErr(t, s.CreateSession(ctx, staff.Session{TokenHash: "h", User: "awa", Created: t0, Expires: t0.Add(time.Hour)}))
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"AddUser", func(ctx context.Context) error { return s.AddUser(ctx, user("binta")) }},
		{"User", func(ctx context.Context) error { _, err := s.User(ctx, "awa"); return err }},
		{"Users", func(ctx context.Context) error { _, err := s.Users(ctx); return err }},
		{"UpdateUser", func(ctx context.Context) error {
			u := user("awa")
			u.FullName = "changed"
			return s.UpdateUser(ctx, u)
		}},
		{"Attempt", func(ctx context.Context) error {
			_, err := s.Attempt(ctx, t0, []staff.Strike{{Key: "name:awa", Backoff: backoff}})
			return err
		}},
		{"Succeeded", func(ctx context.Context) error {
			return s.Succeeded(ctx, t0, []staff.Strike{{Key: "name:awa", Backoff: backoff}})
		}},
		{"Noticed", func(ctx context.Context) error { _, err := s.Noticed(ctx, "name:awa", t0, time.Minute); return err }},
		{"DeleteSessions", func(ctx context.Context) error { return s.DeleteSessions(ctx, "awa", "") }},
		{"CreateSession", func(ctx context.Context) error {
			return s.CreateSession(ctx, staff.Session{TokenHash: "h2", User: "awa", Created: t0, Expires: t0.Add(time.Hour)})
		}},
		{"Session", func(ctx context.Context) error { _, err := s.Session(ctx, "h", t0, time.Hour); return err }},
		{"DeleteSession", func(ctx context.Context) error { return s.DeleteSession(ctx, "h") }},
		{"Audit", func(ctx context.Context) error {
			return s.Audit(ctx, staff.AuditEntry{At: t0, User: "awa", Action: "view"})
		}},
		{"AuditLog", func(ctx context.Context) error { _, err := s.AuditLog(ctx, staff.AuditFilter{}); return err }},
		{"RecordSessions", func(ctx context.Context) error {
			return s.RecordSessions(ctx, []staff.SessionRecord{{At: t0, Phone: "+237677000001"}})
		}},
		{"RecentSessions", func(ctx context.Context) error { _, err := s.RecentSessions(ctx, "+237677000001", 0); return err }},
		{"SessionCounts", func(ctx context.Context) error {
			_, _, err := s.SessionCounts(ctx, t0.Add(-time.Hour), t0.Add(time.Hour))
			return err
		}},
	}
	for _, c := range calls {
		if err := c.call(cancelled); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context = %v, want context.Canceled", c.name, err)
		}
	}
	// Nothing was written.
	if _, err := s.User(ctx, "binta"); guichet.ErrorCode(err) != guichet.ENOTFOUND {
		t.Errorf("user added with a cancelled context: %v", err)
	}
	if u := must[staff.User](t)(s.User(ctx, "awa")); !sameUser(u, user("awa")) {
		t.Errorf("user changed with a cancelled context: %+v", u)
	}
	must[staff.Session](t)(s.Session(ctx, "h", t0, 0))
	if _, err := s.Session(ctx, "h2", t0, 0); guichet.ErrorCode(err) != guichet.ENOTFOUND {
		t.Errorf("session created with a cancelled context: %v", err)
	}
	if es := must[[]staff.AuditEntry](t)(s.AuditLog(ctx, staff.AuditFilter{})); len(es) != 0 {
		t.Errorf("audited with a cancelled context: %+v", es)
	}
	if rs := must[[]staff.SessionRecord](t)(s.RecentSessions(ctx, "+237677000001", 0)); len(rs) != 0 {
		t.Errorf("recorded with a cancelled context: %+v", rs)
	}
	if v := must[staff.Verdict](t)(s.Attempt(ctx, t0, []staff.Strike{{Key: "name:awa", Backoff: backoff}})); !v.OK || v.Failures["name:awa"] != 1 {
		t.Errorf("an attempt was counted with a cancelled context: %+v", v)
	}
}
