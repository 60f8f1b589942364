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
	"github.com/guichet/guichet/metrics"
)

// connectors builds the connector of every service whose file names a
// ministry backend, and refuses, with file and line, a backend section that
// does not hold together or serves an operation we do not know. With mb,
// each connector's attempts and breaker are on /metrics, under the
// backend's name (and its service's, when two services name the same).
func connectors(cat *menus.Catalogue, mb *metrics.Backends) (map[string]adapters.Doer, error) {
	known := map[string]bool{}
	for _, op := range cases.Operations {
		known[op.Name] = true
	}
	out := map[string]adapters.Doer{}
	names := map[string]bool{} // the backends' names on /metrics
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
		name := cfg.WithDefaults().Name
		if mb != nil {
			if names[name] {
				name += " (" + id + ")"
			}
			names[name] = true
			cfg.Observer = mb.Observer(name)
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
		if b, ok := d.(interface{ Breaker() *backend.Breaker }); ok && mb != nil {
			mb.Breaker(name, b.Breaker())
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("ministry backends:\n%s", strings.Join(problems, "\n"))
	}
	return out, nil
}
