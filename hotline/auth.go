package hotline

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/guichet/guichet"
)

// Sign-in policy.
const (
	MaxFailures = 5                // failed sign-ins before the account locks
	LockFor     = 15 * time.Minute // how long it stays locked
	SessionFor  = 12 * time.Hour   // a shift: then sign in again
	MinPassword = 10               // characters

	sessionCookie  = "guichet_session"
	preCSRFCookie  = "guichet_csrf" // double-submit token of the sign-in form
	tokenBytes     = 32
	maxNameLength  = 64
	maxFieldLength = 500
)

// bcryptCost is bcrypt's work factor: about 100 ms a hash on the
// gateway's machines (tests lower it).
var bcryptCost = 11

var validUserName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,63}$`)

// dummyHash is compared against when the account does not exist, so that
// a sign-in takes as long whether the name is known or not.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password of anyone"), bcryptCost)

// NewUser checks an account's fields and hashes its password.
func NewUser(name, fullName string, role Role, lang, password string, now time.Time) (User, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if !validUserName.MatchString(name) {
		return User{}, guichet.Errorf(guichet.EINVALID, "name: 2 to 64 lower-case letters, digits, '.', '-' or '_'")
	}
	if !role.Valid() {
		return User{}, guichet.Errorf(guichet.EINVALID, "role: one of operator, supervisor, admin")
	}
	if lang != "fr" && lang != "en" {
		return User{}, guichet.Errorf(guichet.EINVALID, "language: fr or en")
	}
	hash, err := HashPassword(password)
	if err != nil {
		return User{}, err
	}
	return User{Name: name, FullName: strings.TrimSpace(fullName), Role: role, Lang: lang, Hash: hash, Created: now}, nil
}

// HashPassword refuses a password too short or too long for bcrypt, and
// hashes the others.
func HashPassword(password string) ([]byte, error) {
	if utf8.RuneCountInString(password) < MinPassword {
		return nil, guichet.Errorf(guichet.EINVALID, "password: at least %d characters", MinPassword)
	}
	if len(password) > 72 {
		return nil, guichet.Errorf(guichet.EINVALID, "password: at most 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return nil, fmt.Errorf("hashing a password: %w", err)
	}
	return h, nil
}

// OneTimePassword makes a random password for a first account.
func OneTimePassword() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

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
// wrong password.
var (
	errBadCredentials = guichet.Errorf(guichet.EINVALID, "wrong name or password")
)

// lockedError says until when an account is locked.
type lockedError struct{ until time.Time }

func (e lockedError) Error() string { return "account locked until " + e.until.Format("15:04") }

// SignIn checks a name and password and opens a session. A wrong password
// counts towards the lock-out; a locked account is refused even with the
// right password.
func (c *Console) SignIn(ctx context.Context, name, password string) (Session, string, User, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	now := c.now()
	// The attempt is counted before the password is checked, so that
	// guesses sent in parallel cannot all slip in before the lock.
	u, ok, err := c.Accounts.SignInAttempt(ctx, name, now, MaxFailures, LockFor)
	if guichet.ErrorCode(err) == guichet.ENOTFOUND {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return Session{}, "", User{}, errBadCredentials
	}
	if err != nil {
		return Session{}, "", User{}, fmt.Errorf("signing in: %w", err)
	}
	if !ok {
		return Session{}, "", u, lockedError{u.LockedUntil}
	}
	if bcrypt.CompareHashAndPassword(u.Hash, []byte(password)) != nil || !u.Role.Valid() {
		if now.Before(u.LockedUntil) { // this attempt was the last allowed
			return Session{}, "", u, lockedError{u.LockedUntil}
		}
		return Session{}, "", u, errBadCredentials
	}
	if err := c.Accounts.SignedIn(ctx, name); err != nil {
		return Session{}, "", User{}, fmt.Errorf("signing in: %w", err)
	}
	token, hash := newToken()
	csrf, _ := newToken()
	s := Session{TokenHash: hash, User: name, CSRF: csrf, Created: now, Expires: now.Add(SessionFor)}
	if err := c.Accounts.CreateSession(ctx, s); err != nil {
		return Session{}, "", User{}, fmt.Errorf("opening a session: %w", err)
	}
	return s, token, u, nil
}

func bcryptCompare(hash []byte, password string) error {
	return bcrypt.CompareHashAndPassword(hash, []byte(password))
}
