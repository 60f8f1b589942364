package main

import (
	"sort"

	"github.com/guichet/guichet/ussd"
	"github.com/guichet/guichet/ussd/africastalking"
	"github.com/guichet/guichet/ussd/madapi"
)

// dialects are the operator dialects configuration can name.
var dialects = map[string]ussd.Dialect{}

func init() {
	for _, d := range []ussd.Dialect{africastalking.Dialect{}, madapi.Dialect{}} {
		dialects[d.Name()] = d
	}
}

func dialectNames() []string {
	names := make([]string, 0, len(dialects))
	for n := range dialects {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
