// Reading conditions: the comparisons a phone answer can decide, the names
// a condition uses and its script language.

package xpdl

import (
	"slices"
	"strings"
)

// test is a condition that compares one variable with one value, the only
// kind a phone answer can decide: "approved", "!approved", "not approved",
// "kind == 'food'", "kind.equals(\"food\")", "approved === false"…
type test struct {
	Field string
	Value string // "true", "false", or the compared value, unquoted
	Not   bool   // the condition holds when the field is NOT Value
}

// parseTest reads a condition written in JavaScript, Python, Java or
// BeanShell, as far as it is one such comparison.
// Conditions longer than MaxCondition characters are not read as tests: no
// simple comparison is that long, and the report shows them cut short.
func parseTest(expr string) (test, bool) {
	if len(expr) > MaxCondition {
		return test{}, false
	}
	s := strings.TrimSuffix(strings.TrimSpace(expr), ";")
	not := false
	// Negations and parentheses, peeled off in a loop: "!(!(a))".
	for {
		s = strings.TrimSpace(s)
		switch {
		case len(s) >= 2 && s[0] == '(' && s[len(s)-1] == ')' && balanced(s[1:len(s)-1]):
			s = s[1 : len(s)-1]
			continue
		case strings.HasPrefix(s, "!") && !strings.HasPrefix(s, "!="):
			s, not = s[1:], !not
			continue
		case strings.HasPrefix(s, "not ") || strings.HasPrefix(s, "not("):
			s, not = s[3:], !not
			continue
		}
		break
	}
	t, ok := comparison(s)
	if not {
		t.Not = !t.Not
	}
	return t, ok
}

// MaxCondition is the longest condition the importer reads as a test.
const MaxCondition = 500

// comparison reads one comparison, with no negation or parentheses around it.
func comparison(s string) (test, bool) {
	if s == "" {
		return test{}, false
	}
	if isIdent(s) {
		return test{Field: s, Value: "true"}, true
	}
	// x.equals("v") and "v".equals(x)
	if i := strings.Index(s, ".equals("); i > 0 && strings.HasSuffix(s, ")") {
		a, b := strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+len(".equals("):len(s)-1])
		if isIdent(a) {
			if v, ok := literal(b); ok {
				return test{Field: a, Value: v}, true
			}
		}
		if isIdent(b) {
			if v, ok := literal(a); ok {
				return test{Field: b, Value: v}, true
			}
		}
		return test{}, false
	}
	for _, op := range []string{"!==", "===", "!=", "==", "<>", "="} {
		i := strings.Index(s, op)
		if i <= 0 {
			continue
		}
		a, b := strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+len(op):])
		if strings.ContainsAny(b, "=<>!&|") {
			return test{}, false
		}
		not := op == "!==" || op == "!=" || op == "<>"
		if isIdent(a) {
			if v, ok := literal(b); ok {
				return test{Field: a, Value: v, Not: not}, true
			}
		}
		if isIdent(b) {
			if v, ok := literal(a); ok {
				return test{Field: b, Value: v, Not: not}, true
			}
		}
		return test{}, false
	}
	return test{}, false
}

// balanced reports whether the parentheses of s pair up.
func balanced(s string) bool {
	depth := 0
	for _, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			if depth--; depth < 0 {
				return false
			}
		}
	}
	return depth == 0
}

// isIdent reports whether s is a variable name (not a keyword or a
// boolean).
func isIdent(s string) bool {
	if s == "" || s == "not" || s == "true" || s == "false" || s == "True" || s == "False" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// literal reads a quoted string, a boolean or a bare number or word.
func literal(s string) (string, bool) {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		v := s[1 : len(s)-1]
		if strings.ContainsRune(v, rune(s[0])) {
			return "", false
		}
		return v, true
	}
	switch s {
	case "true", "True", "TRUE":
		return "true", true
	case "false", "False", "FALSE":
		return "false", true
	}
	if s == "" {
		return "", false
	}
	for _, c := range s {
		if !(c == '_' || c == '.' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return "", false
		}
	}
	return s, true
}

// unquote returns a quoted literal's content, and whether s was one.
func unquote(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1], true
	}
	return "", false
}

// identifiers lists the names a condition uses, outside quoted strings.
func identifiers(cond string) []string {
	if len(cond) > MaxCondition {
		cond = cond[:MaxCondition]
	}
	var out []string
	var quote byte
	start := -1
	for i := 0; i <= len(cond); i++ {
		c := byte(' ')
		if i < len(cond) {
			c = cond[i]
		}
		if quote != 0 {
			if c == quote {
				quote = 0
			}
			continue
		}
		word := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || start >= 0 && c >= '0' && c <= '9'
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			if w := cond[start:i]; !slices.Contains(out, w) && (start == 0 || cond[start-1] != '.') {
				out = append(out, w)
			}
			start = -1
		}
		if !word && (c == '"' || c == '\'') {
			quote = c
		}
	}
	return out
}

// shortCode quotes an expression for the report: cut to 60 characters,
// in backquotes.
func shortCode(s string) string { return "`" + shorten(s, 60) + "`" }

// script names the package's script language (Script/@Type).
func (p *Package) script() string { return scriptName(p.Script) }

// scriptName makes "text/javascript" read "JavaScript".
func scriptName(s string) string {
	switch t := strings.ToLower(s); {
	case strings.Contains(t, "javascript"), strings.Contains(t, "ecmascript"):
		return "JavaScript"
	case strings.Contains(t, "python"):
		return "Python"
	case strings.Contains(t, "java"):
		return "Java"
	}
	return s
}
