// Package staff keeps what the hotline console knows of its people and
// their work: accounts and roles (operator, supervisor, administrator),
// passwords, sign-in sessions, the audit log of what they did, and the
// journal of how callers' USSD sessions ended, which they read. Memory
// keeps them here, postgres.Console in PostgreSQL, both held to the
// contract of stafftest (its Accounts and Trail). The console itself (package
// hotline) is a channel; stores depend on this package, never on it.
package staff

import (
	"slices"
	"time"
)

// Role decides what a console user may see and do.
type Role string

// Roles, from the least to the most trusted: an operator answers callers
// and acts for them; a supervisor also reads the audit log and the
// dashboard; an administrator also manages accounts.
const (
	Operator   Role = "operator"
	Supervisor Role = "supervisor"
	Admin      Role = "admin"
)

// Disabled is the role of an account that may no longer sign in: its
// sessions see nothing either.
const Disabled Role = "disabled"

// Roles lists the roles, least trusted first.
var Roles = []Role{Operator, Supervisor, Admin}

// rank orders roles; an unknown role ranks below every known one.
func (r Role) rank() int {
	for i, x := range Roles {
		if x == r {
			return i + 1
		}
	}
	return 0
}

// AtLeast reports whether r may do what min may.
func (r Role) AtLeast(min Role) bool { return r.rank() >= min.rank() && r.rank() > 0 }

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// User is a console account.
type User struct {
	Name     string // the sign-in name: lower-case letters, digits, '.', '-' and '_'
	FullName string
	Role     Role
	Lang     string // "fr" or "en": the console's language for this user
	Hash     []byte // bcrypt hash of the password
	// MustChange asks for a new password at the next sign-in (a one-time
	// password: the first administrator's, or one an administrator gave);
	// such a password no longer signs in from PasswordExpires (zero:
	// never).
	MustChange      bool
	PasswordExpires time.Time
	Created         time.Time
}

// Session is a signed-in browser. Only the SHA-256 of its cookie's token
// is stored, so that a read of the store cannot sign anyone in. It ends
// at Expires, or once unused for the console's idle timeout after
// LastSeen.
type Session struct {
	TokenHash string // hex SHA-256 of the cookie's token
	User      string
	CSRF      string // the token every form of this session carries
	Created   time.Time
	Expires   time.Time
	LastSeen  time.Time // its latest request
}

// AuditEntry is one line of the audit log: who saw or changed what.
type AuditEntry struct {
	ID      int64 // assigned by the store, increasing
	At      time.Time
	User    string
	Action  string // "view", "case.move", "case.note", "sms.send", "booking.cancel", ...
	Subject string // the phone (E.164) or the reference acted on
	Detail  string
	// Shown are the other subjects the entry is about: the numbers a list
	// showed (the callback queue, a page of the API), the phone of a case
	// viewed by its reference. A filter by subject finds an entry by its
	// Subject or by any of these: one entry a view, however many numbers
	// it showed.
	Shown []string
}

// About tells whether e is about subject: its Subject or one it showed.
func (e AuditEntry) About(subject string) bool {
	return e.Subject == subject || slices.Contains(e.Shown, subject)
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	User    string // "" for all
	Subject string // "" for all; else the entries About it
	Before  int64  // entries with a smaller ID (0: from the newest)
	Limit   int    // at most (0: 50, cut to 500)
}

// SessionRecord is how one USSD (or assisted) session ended: the caller
// page lists a caller's, the dashboard counts them.
type SessionRecord struct {
	At       time.Time // when it ended
	Phone    string    // E.164
	Operator string    // the mobile operator, or "hotline"
	Service  string    // "home" when it ended before entering a service
	Node     string    // the last screen reached
	Result   string    // ussd.Completed, Abandoned, TimedOut or Errored ("completed"...)
	Hops     int
	Duration time.Duration
}

// HourCount is how many sessions of a service ended in an hour.
type HourCount struct {
	Hour    time.Time // truncated to the hour, UTC
	Service string
	N       int
}

// EndCount is how many sessions of a service ended at a node with a
// result.
type EndCount struct {
	Service, Node, Result string
	N                     int
}
