package hotline

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/staff"
)

// Sign-in policy.
const (
	MaxFailures = 5                // failed sign-ins before the account locks
	LockFor     = 15 * time.Minute // how long it stays locked
	SessionFor  = 12 * time.Hour   // a shift: then sign in again

	sessionCookie  = "guichet_session"
	preCSRFCookie  = "guichet_csrf" // double-submit token of the sign-in form
	tokenBytes     = 32
	maxNameLength  = 64
	maxFieldLength = 500
)

// dummyHash is compared against when the account does not exist, so that
// a sign-in takes as long whether the name is known or not.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password of anyone"), staff.HashCost)

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
func (c *Console) SignIn(ctx context.Context, name, password string) (staff.Session, string, staff.User, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	now := c.now()
	// The attempt is counted before the password is checked, so that
	// guesses sent in parallel cannot all slip in before the lock.
	u, ok, err := c.Accounts.SignInAttempt(ctx, name, now, MaxFailures, LockFor)
	if guichet.ErrorCode(err) == guichet.ENOTFOUND {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return staff.Session{}, "", staff.User{}, errBadCredentials
	}
	if err != nil {
		return staff.Session{}, "", staff.User{}, fmt.Errorf("signing in: %w", err)
	}
	if !ok {
		return staff.Session{}, "", u, lockedError{u.LockedUntil}
	}
	if bcrypt.CompareHashAndPassword(u.Hash, []byte(password)) != nil || !u.Role.Valid() {
		if now.Before(u.LockedUntil) { // this attempt was the last allowed
			return staff.Session{}, "", u, lockedError{u.LockedUntil}
		}
		return staff.Session{}, "", u, errBadCredentials
	}
	if err := c.Accounts.SignedIn(ctx, name); err != nil {
		return staff.Session{}, "", staff.User{}, fmt.Errorf("signing in: %w", err)
	}
	token, hash := newToken()
	csrf, _ := newToken()
	s := staff.Session{TokenHash: hash, User: name, CSRF: csrf, Created: now, Expires: now.Add(SessionFor)}
	if err := c.Accounts.CreateSession(ctx, s); err != nil {
		return staff.Session{}, "", staff.User{}, fmt.Errorf("opening a session: %w", err)
	}
	return s, token, u, nil
}

func bcryptCompare(hash []byte, password string) error {
	return bcrypt.CompareHashAndPassword(hash, []byte(password))
}
