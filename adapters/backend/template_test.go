package backend

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/guichet/guichet/menus"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"ref": "AB/12 3", "lang": "fr", "empty": ""}
	tests := []struct {
		in      string
		escape  func(string) string
		want    string
		wantErr string
	}{
		{"constant", nil, "constant", ""},
		{"{{ref}}", nil, "AB/12 3", ""},
		{"/cases/{{ref}}/{{lang}}", url.PathEscape, "/cases/AB%2F12%203/fr", ""},
		{"{{ ref }}", nil, "AB/12 3", ""},
		{"x{{empty}}y", nil, "xy", ""},
		{"a { b } {c}", nil, "a { b } {c}", ""},
		{"{{nope}}", nil, "", "{{nope}}: no such variable"},
		{"{{ref", nil, "", "{{ without }}"},
		{"{{}}", nil, "", "is not a variable name"},
	}
	for _, tt := range tests {
		got, err := Expand(tt.in, vars, tt.escape)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Expand(%q): error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestVarsCannotOverrideTheCaller(t *testing.T) {
	vars := Vars(menus.Call{
		Op: "cases.open", Service: "covid", Phone: "+237677123456", Lang: "en", Channel: "ussd", Key: "k1",
		Args: map[string]string{"phone": "+237699999999", "office": "yde-1"},
	})
	want := map[string]string{
		"phone": "+237677123456", "lang": "en", "service": "covid", "channel": "ussd",
		"op": "cases.open", "key": "k1", "office": "yde-1",
	}
	if !reflect.DeepEqual(vars, want) {
		t.Errorf("Vars = %v, want %v", vars, want)
	}
}

func TestFieldsOrder(t *testing.T) {
	op := Operation{
		Order:   []string{"Z", "A/Y"},
		Request: map[string]string{"A/X": "{{a}}", "A/Y": "y", "B": "b", "Z": "z-{{a}}"},
	}
	got, err := op.Fields(map[string]string{"a": "1"}, "/")
	if err != nil {
		t.Fatal(err)
	}
	want := []Field{
		{Path: []string{"Z"}, Value: "z-1"},
		{Path: []string{"A", "Y"}, Value: "y"},
		{Path: []string{"A", "X"}, Value: "1"},
		{Path: []string{"B"}, Value: "b"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Fields = %v, want %v", got, want)
	}
	if _, err := op.Fields(map[string]string{}, "/"); err == nil || !strings.Contains(err.Error(), "request field A/X: {{a}}: no such variable") {
		t.Errorf("Fields without a: %v", err)
	}
}

// doc is a backend.Document on a flat map, for testing Map.
type doc struct {
	values map[string]string
	lists  map[string][]Document
}

func (d doc) Value(path string) (string, bool) { v, ok := d.values[path]; return v, ok }
func (d doc) Items(path string) ([]Document, bool) {
	v, ok := d.lists[path]
	return v, ok
}

func TestMap(t *testing.T) {
	op := Operation{
		Response: map[string]string{"ref": "data.ref", "status": "data.status"},
		Options:  &OptionsMapping{Path: "offices", ID: "code", Label: "name_{{lang}}"},
	}
	vars := map[string]string{"lang": "en"}
	answer := doc{
		values: map[string]string{"data.ref": "R1", "data.status": "ready"},
		lists: map[string][]Document{"offices": {
			doc{values: map[string]string{"code": "yde", "name_en": "Yaounde", "name_fr": "Yaoundé"}},
			doc{values: map[string]string{"code": "dla", "name_en": "Douala"}},
		}},
	}
	got, err := op.Map(answer, vars)
	if err != nil {
		t.Fatal(err)
	}
	want := menus.Result{
		Vars:    map[string]string{"ref": "R1", "status": "ready"},
		Options: []menus.Choice{{ID: "yde", Label: "Yaounde"}, {ID: "dla", Label: "Douala"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Map = %+v, want %+v", got, want)
	}

	broken := []struct {
		name string
		doc  doc
		want string
	}{
		{"missing value", doc{values: map[string]string{"data.ref": "R1"}}, "answer has no value at data.status (for status)"},
		{"missing list", doc{values: answer.values}, `answer has no list at "offices"`},
		{"item without id", doc{values: answer.values, lists: map[string][]Document{"offices": {doc{values: map[string]string{"name_en": "X"}}}}},
			`item 0 of "offices" has no code`},
		{"item without label", doc{values: answer.values, lists: map[string][]Document{"offices": {doc{values: map[string]string{"code": "x", "name_fr": "X"}}}}},
			`item 0 of "offices" has no name_en`},
	}
	for _, tt := range broken {
		_, err := op.Map(tt.doc, vars)
		f, ok := err.(*Failure)
		if !ok || f.Retry || f.Reason != tt.want {
			t.Errorf("%s: Map error %#v, want a Failure not retried saying %q", tt.name, err, tt.want)
		}
	}
}
