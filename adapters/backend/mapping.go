package backend

import (
	"fmt"

	"github.com/guichet/guichet/menus"
)

// Document is a parsed answer that paths can be looked up in: a JSON value
// for REST, a SOAP envelope for SOAP.
type Document interface {
	// Value returns the text at path, and false if there is none (or if
	// what is there is not a single value).
	Value(path string) (string, bool)
	// Items returns the items of the list at path, and false if there is
	// no list there.
	Items(path string) ([]Document, bool)
}

// Map returns op's result from doc: its Response variables and, for a list
// operation, its Options, with vars filling the templates of the option
// paths. An answer that lacks a mapped value is a broken answer.
func (op Operation) Map(doc Document, vars map[string]string) (menus.Result, error) {
	var res menus.Result
	if len(op.Response) > 0 {
		res.Vars = make(map[string]string, len(op.Response))
	}
	for _, name := range sortedKeys(op.Response) {
		path := op.Response[name]
		v, ok := doc.Value(path)
		if !ok {
			return menus.Result{}, Broken(nil, "answer has no value at %s (for %s)", path, name)
		}
		res.Vars[name] = v
	}
	o := op.Options
	if o == nil {
		return res, nil
	}
	idPath, err := Expand(o.ID, vars, nil)
	if err != nil {
		return menus.Result{}, fmt.Errorf("options.id: %w", err)
	}
	labelPath, err := Expand(o.Label, vars, nil)
	if err != nil {
		return menus.Result{}, fmt.Errorf("options.label: %w", err)
	}
	items, ok := doc.Items(o.Path)
	if !ok {
		return menus.Result{}, Broken(nil, "answer has no list at %q", o.Path)
	}
	res.Options = make([]menus.Choice, 0, len(items))
	for i, item := range items {
		id, ok := item.Value(idPath)
		if !ok || id == "" {
			return menus.Result{}, Broken(nil, "item %d of %q has no %s", i, o.Path, idPath)
		}
		label, ok := item.Value(labelPath)
		if !ok {
			return menus.Result{}, Broken(nil, "item %d of %q has no %s", i, o.Path, labelPath)
		}
		res.Options = append(res.Options, menus.Choice{ID: id, Label: label})
	}
	return res, nil
}
