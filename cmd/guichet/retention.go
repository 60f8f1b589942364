package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/retention"
)

// RetentionConfig says how long each kind of citizens' data is kept, as a
// number of days, weeks or years (90d, 8w, 2y), or never to purge it
// ("never"); unset, each takes retention.Defaults. A service file's
// retention: closed: wins over closed_cases for its own cases.
type RetentionConfig struct {
	Journal     string `yaml:"journal"`      // ended USSD sessions (90d)
	SMSBodies   string `yaml:"sms_bodies"`   // an SMS's text; its number and state stay (30d)
	Audit       string `yaml:"audit"`        // the console's audit log (2y)
	Callbacks   string `yaml:"callbacks"`    // closed callback requests (1y)
	ClosedCases string `yaml:"closed_cases"` // a closed case's personal fields (3y)
	// Every is how often the purge runs (1h), Batch how many rows each of
	// its statements touches (1000).
	Every time.Duration `yaml:"every"`
	Batch int           `yaml:"batch"`
}

// policy reads the configuration over retention.Defaults.
func (c RetentionConfig) policy() (retention.Policy, error) {
	p := retention.Defaults()
	for _, f := range []struct {
		name, value string
		dst         *time.Duration
	}{{"journal", c.Journal, &p.Journal}, {"sms_bodies", c.SMSBodies, &p.SMSBodies}, {"audit", c.Audit, &p.Audit},
		{"callbacks", c.Callbacks, &p.Callbacks}, {"closed_cases", c.ClosedCases, &p.ClosedCases}} {
		switch f.value {
		case "":
		case "never":
			*f.dst = 0
		default:
			d, err := menus.ParsePeriod(f.value)
			if err != nil {
				return p, fmt.Errorf("retention.%s: %w (or never)", f.name, err)
			}
			*f.dst = d
		}
	}
	if c.Every < 0 || c.Batch < 0 {
		return p, fmt.Errorf("retention: every and batch cannot be negative")
	}
	return p, nil
}

// purger is the retention purge over the database's store, for the
// catalogue's services; nil on the embedded default, where nothing
// outlives the process.
func purger(cfg Config, store retention.Store, cat *menus.Catalogue, log *slog.Logger) (*retention.Purger, error) {
	if store == nil {
		return nil, nil
	}
	policy, err := cfg.Retention.policy()
	if err != nil {
		return nil, err
	}
	services := map[string]time.Duration{}
	for id, s := range cat.Services {
		if s.Retention.Closed > 0 {
			services[id] = s.Retention.Closed
		}
	}
	return &retention.Purger{Store: store, Policy: policy, Catalogue: cat, Services: services,
		Every: cfg.Retention.Every, Batch: cfg.Retention.Batch, Now: cfg.Clock, Log: log}, nil
}
