package staff_test

import (
	"errors"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/staff"
)

// Each rule refuses what it says, with its name; passwords people make
// up pass.
func TestCheckPassword(t *testing.T) {
	for _, tt := range []struct {
		name, password, rule string
	}{
		{"awa", "kiwi rhubarb lantern", ""},
		{"awa", "tulip orbit 5512", ""},
		{"awa", "Ndolé du dimanche chez Tati", ""},
		{"awa", "correct horse battery", ""},
		{"awa", "short", staff.RuleShort},
		{"awa", "ééééééééé", staff.RuleShort}, // 9 characters, 18 bytes
		{"awa", "0123456789012345678901234567890123456789012345678901234567890123456789xyz", staff.RuleLong},
		{"awa", "aaaaaaaaaa", staff.RuleRepeated},
		{"awa", "AAAAAAAAAAAA", staff.RuleRepeated},
		{"awa", "aAaAaAaAaAaA", staff.RuleRepeated},
		{"awa", "abcabcabcabc", staff.RuleRepeated},
		{"awa", "awa2026awa2026", staff.RuleRepeated},
		{"awa", "password123", staff.RuleCommon},
		{"awa", "Password2026!", staff.RuleCommon},
		{"awa", "P@ssw0rd2026", staff.RuleCommon},
		{"awa", "motdepasse", staff.RuleCommon},
		{"awa", "Mot de passe 1", staff.RuleCommon},
		{"awa", "azertyuiop", staff.RuleCommon},
		{"awa", "1234567890", staff.RuleCommon},
		{"awa", "cameroun2026", staff.RuleCommon},
		{"awa", "jetaimemarie", staff.RuleCommon},
		{"awa", "Lionsindomptables!", staff.RuleCommon},
		{"awa", "iloveyou!!!", staff.RuleCommon},
		{"kemajou", "kemajou-20261", staff.RuleName},
		{"kemajou", "Kemajou et le fleuve", ""},
		{"moussa", "Moussa wants coffee", ""},
	} {
		err := staff.CheckPassword(tt.name, tt.password)
		var pe *staff.PasswordError
		switch {
		case tt.rule == "" && err != nil:
			t.Errorf("%q for %s: %v, want accepted", tt.password, tt.name, err)
		case tt.rule != "" && (!errors.As(err, &pe) || pe.Rule != tt.rule || guichet.ErrorCode(err) != guichet.EINVALID):
			t.Errorf("%q for %s: %v, want refused by rule %q", tt.password, tt.name, err, tt.rule)
		}
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("kiwi rhubarb lantern"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	var pe *staff.PasswordError
	if err := staff.CheckNewPassword("awa", "kiwi rhubarb lantern", hash); !errors.As(err, &pe) || pe.Rule != staff.RuleReused {
		t.Errorf("the current password as the new one: %v, want refused", err)
	}
	if err := staff.CheckNewPassword("awa", "tulip orbit 5512", hash); err != nil {
		t.Errorf("another password: %v", err)
	}
	for range 100 {
		if p := staff.OneTimePassword(); staff.CheckPassword("admin", p) != nil {
			t.Errorf("a one-time password breaks a rule: %v", staff.CheckPassword("admin", p))
		}
	}
}
