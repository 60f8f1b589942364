package main

import (
	"fmt"
	"strings"

	"github.com/guichet/guichet/adapters"
	"github.com/guichet/guichet/adapters/backend"
	"github.com/guichet/guichet/adapters/rest"
	"github.com/guichet/guichet/adapters/soap"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
)

// connectors builds the connector of every service whose file names a
// ministry backend, and refuses, with file and line, a backend section that
// does not hold together or serves an operation we do not know.
func connectors(cat *menus.Catalogue) (map[string]adapters.Doer, error) {
	known := map[string]bool{}
	for _, op := range cases.Operations {
		known[op.Name] = true
	}
	out := map[string]adapters.Doer{}
	var problems []string
	for id, svc := range cat.Services {
		if svc.Backend == nil {
			continue
		}
		where := fmt.Sprintf("%s:%d", svc.File, svc.Backend.Line)
		var cfg backend.Config
		if err := svc.Backend.Decode(&cfg); err != nil {
			problems = append(problems, fmt.Sprintf("%s: backend: %v", where, err))
			continue
		}
		for op := range cfg.Operations {
			if !known[op] {
				problems = append(problems, fmt.Sprintf("%s: backend: unknown operation %q", where, op))
			}
		}
		var d adapters.Doer
		var err error
		switch cfg.Type {
		case "rest":
			d, err = rest.New(cfg, nil)
		case "soap":
			d, err = soap.New(cfg, nil)
		default:
			err = fmt.Errorf("type %q: expected rest or soap", cfg.Type)
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: backend: %v", where, err))
			continue
		}
		out[id] = d
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("ministry backends:\n%s", strings.Join(problems, "\n"))
	}
	return out, nil
}
