// Package retention keeps citizens' data no longer than its purpose needs:
// a Policy says how long each kind is kept, and a Purger applies it, a
// small batch at a time, through the store that holds the data (package
// postgres). The USSD session journal and the audit log are deleted, SMS
// bodies redacted while their delivery state stays, closed hotline
// callbacks deleted, and closed cases pseudonymised: the case and its
// history stay, the applicant's phone and what they typed do not.
package retention

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

const day = 24 * time.Hour

// Policy is how long each kind of data is kept. A zero field keeps that
// kind for ever.
type Policy struct {
	Journal   time.Duration // ended USSD sessions (the hotline's journal, drop-off charts)
	SMSBodies time.Duration // an SMS's text, from its creation; its number and delivery state stay
	Audit     time.Duration // the console's audit log
	Callbacks time.Duration // a hotline callback request, from its closing
	// ClosedCases is how long a case in a closed status keeps its
	// applicant's personal fields, from its last move, for the services
	// whose file declares no retention: closed.
	ClosedCases time.Duration
}

// Defaults is the policy unless configuration says otherwise.
func Defaults() Policy {
	return Policy{Journal: 90 * day, SMSBodies: 30 * day, Audit: 2 * 365 * day, Callbacks: 365 * day, ClosedCases: 3 * 365 * day}
}

// Closed is, for one service, the statuses in which a case is closed, and
// the time before which a case that reached one is pseudonymised.
type Closed struct {
	Service  string
	Statuses []string
	Before   time.Time
}

// Cutoffs are a Policy at one moment: what is older than each is purged.
// A zero time purges nothing of that kind.
type Cutoffs struct {
	Journal, SMSBodies, Audit, Callbacks time.Time
	Cases                                []Closed
}

// Counts are how many rows of each kind a purge removed or rewrote.
type Counts struct {
	Journal   int64 `json:"journal"`    // sessions deleted
	SMSBodies int64 `json:"sms_bodies"` // bodies redacted
	Audit     int64 `json:"audit"`      // entries deleted
	Callbacks int64 `json:"callbacks"`  // requests deleted
	Cases     int64 `json:"cases"`      // cases pseudonymised
}

func (c *Counts) add(o Counts) {
	c.Journal += o.Journal
	c.SMSBodies += o.SMSBodies
	c.Audit += o.Audit
	c.Callbacks += o.Callbacks
	c.Cases += o.Cases
}

// Store purges what is older than the cutoffs, at most batch rows a
// statement, each statement its own short transaction, so that no hot
// table is locked for long, and returns how many rows it purged.
type Store interface {
	Purge(ctx context.Context, c Cutoffs, batch int) (Counts, error)
}

// Catalogue tells the services, their closed statuses and the retention
// their files declare (menus.Catalogue through Services).
type Catalogue interface {
	ServiceIDs() []string
	Closed(service string) []string
}

// Purger applies a Policy every Every (an hour), a Batch (1000) rows a
// statement. Run it on one gateway of a fleet at a time (under a lock of
// the fleet): two would only do the same work twice.
type Purger struct {
	Store     Store
	Policy    Policy
	Catalogue Catalogue
	// Services are the retention: closed: periods service files declare,
	// by service; a service not here takes Policy.ClosedCases.
	Services map[string]time.Duration
	Every    time.Duration
	Batch    int
	Now      func() time.Time
	Log      *slog.Logger

	mu     sync.Mutex
	totals Counts
}

// Cutoffs returns the policy's cutoffs at now.
func (p *Purger) Cutoffs(now time.Time) Cutoffs {
	before := func(d time.Duration) time.Time {
		if d <= 0 {
			return time.Time{}
		}
		return now.Add(-d)
	}
	c := Cutoffs{Journal: before(p.Policy.Journal), SMSBodies: before(p.Policy.SMSBodies),
		Audit: before(p.Policy.Audit), Callbacks: before(p.Policy.Callbacks)}
	if p.Catalogue != nil {
		for _, svc := range p.Catalogue.ServiceIDs() {
			keep, ok := p.Services[svc]
			if !ok || keep <= 0 {
				keep = p.Policy.ClosedCases
			}
			st := p.Catalogue.Closed(svc)
			if keep <= 0 || len(st) == 0 {
				continue
			}
			c.Cases = append(c.Cases, Closed{Service: svc, Statuses: st, Before: now.Add(-keep)})
		}
	}
	return c
}

// Once purges what the policy says is due now, and adds it to the totals.
func (p *Purger) Once(ctx context.Context) (Counts, error) {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	batch := p.Batch
	if batch <= 0 {
		batch = 1000
	}
	n, err := p.Store.Purge(ctx, p.Cutoffs(now()), batch)
	p.mu.Lock()
	p.totals.add(n)
	p.mu.Unlock()
	return n, err
}

// Totals are what every purge of this process removed: what /metrics says.
func (p *Purger) Totals() Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.totals
}

// Run purges at once, then every Every, until ctx ends.
func (p *Purger) Run(ctx context.Context) {
	every := p.Every
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := p.Once(ctx)
		if err != nil && ctx.Err() == nil {
			p.Log.Error("purging data past its retention", "err", err)
		} else if n != (Counts{}) {
			p.Log.Info("purged data past its retention", "journal", n.Journal, "sms_bodies", n.SMSBodies,
				"audit", n.Audit, "callbacks", n.Callbacks, "cases", n.Cases)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
