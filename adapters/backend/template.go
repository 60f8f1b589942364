package backend

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/guichet/guichet/menus"
)

// Vars returns the variables that templates may use for call: its Args,
// and phone, lang, service, channel, op and key, which Args cannot override
// (a menu cannot speak for another phone).
func Vars(call menus.Call) map[string]string {
	vars := make(map[string]string, len(call.Args)+6)
	maps.Copy(vars, call.Args)
	vars["phone"] = call.Phone
	vars["lang"] = call.Lang
	vars["service"] = call.Service
	vars["channel"] = call.Channel
	vars["op"] = call.Op
	vars["key"] = call.Key
	return vars
}

// Expand fills the {{var}} templates in s from vars, passing each value
// through escape if it is not nil. Text outside templates is kept as it is.
// A variable that vars lacks is an error.
func Expand(s string, vars map[string]string, escape func(string) string) (string, error) {
	var b strings.Builder
	err := scan(s, func(text, name string) error {
		b.WriteString(text)
		if name == "" {
			return nil
		}
		v, ok := vars[name]
		if !ok {
			return fmt.Errorf("{{%s}}: no such variable", name)
		}
		if escape != nil {
			v = escape(v)
		}
		b.WriteString(v)
		return nil
	})
	if err != nil {
		return "", err
	}
	return b.String(), nil
}

// checkTemplate reports a syntax error in s.
func checkTemplate(s string) error {
	return scan(s, func(string, string) error { return nil })
}

// scan cuts s into text and {{name}} templates and calls emit with each text
// and the name that follows it ("" after the last text).
func scan(s string, emit func(text, name string) error) error {
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			return emit(s, "")
		}
		j := strings.Index(s[i+2:], "}}")
		if j < 0 {
			return fmt.Errorf("%q: {{ without }}", s)
		}
		name := strings.TrimSpace(s[i+2 : i+2+j])
		if !isVarName(name) {
			return fmt.Errorf("%q: {{%s}} is not a variable name", s, name)
		}
		if err := emit(s[:i], name); err != nil {
			return err
		}
		s = s[i+2+j+2:]
	}
}

func isVarName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '-' && r != '.' {
			return false
		}
	}
	return true
}

// Field is one request field with its template expanded.
type Field struct {
	Path  []string // "applicant.phone" → ["applicant", "phone"]
	Value string
}

// Fields expands op's request fields from vars, in the order the backend
// wants: the fields named in op.Order first, then the others by name. sep
// cuts field names into paths ("." for REST, "/" for SOAP).
func (op Operation) Fields(vars map[string]string, sep string) ([]Field, error) {
	names := make([]string, 0, len(op.Request))
	names = append(names, op.Order...)
	for _, name := range sortedKeys(op.Request) {
		if !slices.Contains(op.Order, name) {
			names = append(names, name)
		}
	}
	fields := make([]Field, 0, len(names))
	var errs []error
	for _, name := range names {
		tmpl, ok := op.Request[name]
		if !ok {
			continue // Validate reports it
		}
		v, err := Expand(tmpl, vars, nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("request field %s: %w", name, err))
			continue
		}
		fields = append(fields, Field{Path: strings.Split(name, sep), Value: v})
	}
	return fields, errors.Join(errs...)
}
