package staff

import (
	"bufio"
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/guichet/guichet"
)

//go:generate go run gen_common.go

// MinPassword is the shortest password accepted, in characters.
const MinPassword = 10

// OneTimeFor is how long a one-time password (one its user must change at
// first sign-in) signs in, unless configured otherwise.
const OneTimeFor = 24 * time.Hour

// HashCost is bcrypt's work factor: about 100 ms a hash on the gateway's
// machines (tests lower it).
var HashCost = 11

var validUserName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,63}$`)

// NewUser checks an account's fields and password (CheckPassword) and
// hashes the password.
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
	if err := CheckPassword(name, password); err != nil {
		return User{}, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return User{}, err
	}
	return User{Name: name, FullName: strings.TrimSpace(fullName), Role: role, Lang: lang, Hash: hash, Created: now}, nil
}

// OneTime makes u's password a one-time one: to be changed at the first
// sign-in, and refused from now+valid (0: OneTimeFor).
func (u *User) OneTime(now time.Time, valid time.Duration) {
	if valid <= 0 {
		valid = OneTimeFor
	}
	u.MustChange, u.PasswordExpires = true, now.Add(valid)
}

// PasswordExpired reports whether u's password no longer signs in at now:
// a one-time password past its time.
func (u User) PasswordExpired(now time.Time) bool {
	return u.MustChange && !u.PasswordExpires.IsZero() && !now.Before(u.PasswordExpires)
}

// Password rules, as PasswordError.Rule says which one a password breaks.
const (
	RuleShort    = "short"    // under MinPassword characters
	RuleLong     = "long"     // over bcrypt's 72 bytes
	RuleRepeated = "repeated" // one character, or one group, repeated
	RuleCommon   = "common"   // a common password, or a common word dressed with digits and signs
	RuleName     = "name"     // the user's name, and too little else
	RuleReused   = "reused"   // the password it replaces
)

// PasswordError is a password refused by a rule; its code is EINVALID.
type PasswordError struct {
	Rule string
	err  *guichet.Error
}

func (e *PasswordError) Error() string { return e.err.Error() }
func (e *PasswordError) Unwrap() error { return e.err }

func refused(rule, format string, args ...any) error {
	return &PasswordError{Rule: rule, err: guichet.Errorf(guichet.EINVALID, "password: "+format, args...)}
}

// CheckPassword tells whether password may be the password of the
// account name: at least MinPassword characters and at most 72 bytes;
// not one character or one group of characters repeated (aaaaaaaaaa,
// abcabcabca); not a common password, nor a common word with digits and
// signs around it (Password2026!), upper or lower case and with the
// usual swaps (p@ssw0rd) alike; and still MinPassword characters without
// the user's name in it.
func CheckPassword(name, password string) error {
	n := utf8.RuneCountInString(password)
	if n < MinPassword {
		return refused(RuleShort, "at least %d characters", MinPassword)
	}
	if len(password) > 72 {
		return refused(RuleLong, "at most 72 bytes")
	}
	lower := strings.ToLower(password)
	if repeated(lower) {
		return refused(RuleRepeated, "not one character or group of characters repeated")
	}
	if common(lower) {
		return refused(RuleCommon, "not a common password")
	}
	if name = strings.ToLower(name); utf8.RuneCountInString(name) >= 3 &&
		utf8.RuneCountInString(strings.ReplaceAll(lower, name, "")) < MinPassword {
		return refused(RuleName, "at least %d characters besides the user name", MinPassword)
	}
	return nil
}

// CheckNewPassword is CheckPassword, and refuses the password that hash
// is of (the one being replaced).
func CheckNewPassword(name, password string, hash []byte) error {
	if err := CheckPassword(name, password); err != nil {
		return err
	}
	if len(hash) > 0 && bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil {
		return refused(RuleReused, "not the current password")
	}
	return nil
}

// repeated reports whether s is one shorter string said at least twice.
func repeated(s string) bool {
	rs := []rune(s)
	for unit := 1; unit <= len(rs)/2; unit++ {
		if len(rs)%unit != 0 {
			continue
		}
		same := true
		for i := unit; i < len(rs) && same; i++ {
			same = rs[i] == rs[i-unit]
		}
		if same {
			return true
		}
	}
	return false
}

//go:embed common-passwords.txt
var commonFile []byte

// commonSet is the list, each entry as fold makes it.
var commonSet = sync.OnceValue(func() map[string]bool {
	set := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(commonFile))
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" && !strings.HasPrefix(w, "#") {
			set[fold(w)] = true
		}
	}
	return set
})

// common reports whether lower (a lower-case password) is on the list, or
// a word of the list with only digits, signs and spaces before and after
// it.
func common(lower string) bool {
	set := commonSet()
	if set[fold(lower)] {
		return true
	}
	core := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	return core != "" && set[fold(core)]
}

// fold spells a password the way the list is compared: the usual digit
// and sign swaps undone, accents, spaces and separators dropped.
func fold(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '0':
			r = 'o'
		case '1', '!':
			r = 'i'
		case '3':
			r = 'e'
		case '4', '@':
			r = 'a'
		case '5', '$':
			r = 's'
		case '7':
			r = 't'
		case 'à', 'â', 'ä':
			r = 'a'
		case 'é', 'è', 'ê', 'ë':
			r = 'e'
		case 'î', 'ï':
			r = 'i'
		case 'ô', 'ö':
			r = 'o'
		case 'ù', 'û', 'ü':
			r = 'u'
		case 'ç':
			r = 'c'
		case ' ', '-', '_', '.':
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// HashPassword refuses a password too short or too long for bcrypt, and
// hashes the others. The other rules are CheckPassword's.
func HashPassword(password string) ([]byte, error) {
	if utf8.RuneCountInString(password) < MinPassword {
		return nil, refused(RuleShort, "at least %d characters", MinPassword)
	}
	if len(password) > 72 {
		return nil, refused(RuleLong, "at most 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), HashCost)
	if err != nil {
		return nil, fmt.Errorf("hashing a password: %w", err)
	}
	return h, nil
}

// OneTimePassword makes a random password for a first account: 16
// characters of base64, which no rule of CheckPassword refuses but with
// a chance too small to matter; it is made again if one does.
func OneTimePassword() string {
	for {
		b := make([]byte, 12)
		rand.Read(b)
		if p := base64.RawURLEncoding.EncodeToString(b); CheckPassword("", p) == nil {
			return p
		}
	}
}

// ValidName reports whether name may be an account's sign-in name.
func ValidName(name string) bool { return validUserName.MatchString(name) }
