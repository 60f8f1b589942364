// Mapping data fields to the screens that ask for them and the variables
// that keep their values.

package xpdl

import (
	"fmt"
	"slices"

	"github.com/guichet/guichet/menus"
)

// collectSaved finds the fields that inputs save, in the process and the
// sub-processes it may copy.
func (s *service) collectSaved(pr *Process, seen map[string]bool) {
	if seen[pr.ID] {
		return
	}
	seen[pr.ID] = true
	for _, a := range pr.Activities {
		if a.Kind == kindManual {
			for _, u := range a.Updates {
				if f := pr.field(u.ID); f != nil {
					s.asked[f.ID] = true
					if savable(f) {
						s.saved[f.ID] = varName(f.ID)
					}
				}
			}
		}
		if a.SubFlow != nil {
			if c := s.imp.procs[a.SubFlow.Process]; c != nil {
				s.collectSaved(c, seen)
			}
		}
	}
}

// varName is the session variable that keeps a field.
func varName(id string) string { return firstNonEmpty(slug(id, 40), "value") }

// savable reports whether a field's screen saves its value: inputs do;
// yes/no questions and menus of values do not.
func savable(f *DataField) bool { return f.Type != "BOOLEAN" && !(f.Type == "ENUM" && len(f.Enum) > 0) }

// updatedFields returns the data fields a manual activity updates, once
// each.
func (s *service) updatedFields(sc *scope, a *Activity) []*DataField {
	var out []*DataField
	seen := map[string]bool{}
	for _, u := range a.Updates {
		f := sc.proc.field(u.ID)
		if f == nil {
			s.unmapped(u.Line, actName(a), "updates %q, which is not a data field of the process: no screen", u.ID)
			continue
		}
		if !seen[f.ID] {
			seen[f.ID] = true
			out = append(out, f)
		}
	}
	return out
}

// askField sets up the screen that asks for one data field.
func (s *service) askField(n *node, f *DataField, prompt menus.Text, a *Activity) {
	where := fmt.Sprintf("DataField %s, asked by %s", f.ID, actName(a))
	s.onScreen[f.ID] = true
	if f.Array {
		s.review(f.Line, where, "a list (IsArray): one value is asked")
	}
	maxLen := func(def, limit int) int {
		if f.Length > 0 && f.Length <= limit {
			return f.Length
		}
		return def
	}
	switch f.Type {
	case "BOOLEAN":
		n.text = question(prompt, "", "")
		if s.usedLater(f) {
			s.review(f.Line, where, "yes/no: a confirm screen; the menu language keeps no variable from it, so the answer only steers the flow")
		}
	case "ENUM":
		if len(f.Enum) == 0 {
			n.kind, n.text = menus.KindInput, question(prompt, "", "")
			n.input = &menus.Input{Type: "text", Min: 1, Max: 40, Save: s.saved[f.ID]}
			s.review(f.Line, where, "an enumeration with no values: free text")
			return
		}
		n.text = prompt
		for _, v := range f.Enum {
			n.options = append(n.options, option{label: s.screenText(v.Label, v.Name)})
		}
		if s.usedLater(f) {
			s.review(f.Line, where, "enumeration: a menu of its values; the menu language keeps no variable from a menu, so the choice only steers the flow")
		}
	case "INTEGER":
		n.text = question(prompt, "", "")
		n.input = &menus.Input{Type: "digits", Min: 1, Max: maxLen(9, 18)}
	case "FLOAT":
		n.text = question(prompt, "", "")
		n.input = &menus.Input{Type: "pattern", Pattern: `[0-9]+([.,][0-9]+)?`, Max: 15}
	case "DATE", "DATETIME":
		n.text = question(prompt, " (JJMMAAAA)", " (DDMMYYYY)")
		n.input = &menus.Input{Type: "date", Format: "DDMMYYYY"}
		if f.Type == "DATETIME" {
			s.review(f.Line, where, "DATETIME: a date screen; the time of day is not asked")
		}
	case "TIME":
		n.text = question(prompt, " (HHMM)", " (HHMM)")
		n.input = &menus.Input{Type: "pattern", Pattern: `([01]?[0-9]|2[0-3])[:H]?[0-5][0-9]`, Max: 5}
	case "STRING", "REFERENCE", "PERFORMER":
		n.text = question(prompt, "", "")
		n.input = &menus.Input{Type: "text", Min: 1, Max: maxLen(40, 160)}
		if f.Length > 160 {
			s.review(f.Line, where, "Length %d is more than a phone sends in one screen: at most 40 characters asked", f.Length)
		}
	case "none":
		n.text = question(prompt, "", "")
		n.input = &menus.Input{Type: "text", Min: 1, Max: 40}
		s.review(f.Line, where, "no data type: free text")
	default:
		n.text = question(prompt, "", "")
		n.input = &menus.Input{Type: "text", Min: 1, Max: 40}
		s.review(f.Line, where, "type %s has no screen of its own: free text", f.Type)
	}
	if n.input != nil {
		n.input.Save = firstNonEmpty(s.saved[f.ID], varName(f.ID))
	}
}

// usedLater reports whether a field's value is passed to an application
// in this process (a yes/no or menu screen cannot keep it).
func (s *service) usedLater(f *DataField) bool {
	for _, a := range s.proc.Activities {
		for _, t := range a.Tools {
			if slices.Contains(t.Params, f.ID) {
				return true
			}
		}
	}
	return false
}
