package staff

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/guichet/guichet"
)

// MinPassword is the shortest password accepted, in characters.
const MinPassword = 10

// HashCost is bcrypt's work factor: about 100 ms a hash on the gateway's
// machines (tests lower it).
var HashCost = 11

var validUserName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,63}$`)

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
	h, err := bcrypt.GenerateFromPassword([]byte(password), HashCost)
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
