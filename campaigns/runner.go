package campaigns

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/guichet/guichet"
)

// Audience is what the runner asks of the gateway for each chunk of
// numbers, in one look: which sent STOP, and each one's language
// (cases.Memory: the latest case's; postgres.Cases: the one chosen on the
// phone, else the latest case's).
type Audience interface {
	Citizens(ctx context.Context, phones []string) (optedOut map[string]bool, langs map[string]string, err error)
}

// Routes tells a number's operator (smpp.Routes).
type Routes interface {
	Operator(phone string) (string, bool)
}

// Languages is the language each citizen chose on the phone ("" none).
type Languages interface {
	Language(ctx context.Context, phone string) string
}

// Allowance is the day's messages of the API keys campaigns are charged
// to (api.Days): the same count as the keys' own sends, the fleet's.
type Allowance interface {
	// Take takes up to n messages of key's day and returns how many it
	// took; none, with the reason to tell, when the day is spent or the
	// key may no longer send.
	Take(ctx context.Context, key string, n int) (took int, reason string, err error)
	// Give gives back n messages taken and not sent.
	Give(ctx context.Context, key string, n int) error
}

// Runner queues the running campaigns' messages, a chunk at a time, within
// their windows and rates, never more than a chunk of each waiting in the
// outbox (so that a pause, a cancel or the window's end stops all but
// that); one that has no number left is done. One gateway of a fleet runs
// it (serve holds a lock for it): the rates are the fleet's.
type Runner struct {
	Store     Store
	Audience  Audience
	Languages Languages // each number's choice on the phone, over Audience's; nil: Audience's alone
	Routes    Routes    // for the campaigns' per-operator rates; nil: those rates are not applied
	// Allowance charges the messages of a campaign made through the API
	// to its key's day: a step takes what it queues from it, and a
	// campaign whose key has none left is paused, saying why (Paused).
	// nil: no campaign is charged. A campaign from the console has no key.
	Allowance Allowance
	Chunk     int              // numbers a step takes of a campaign (500)
	Every     time.Duration    // how often Run steps (1 s)
	Now       func() time.Time // nil: time.Now
	Log       *slog.Logger
	credit    map[int64]float64 // messages each rate-limited campaign may still queue
	opCredit  map[opKey]float64 // and for each of its operators
}

type opKey struct {
	campaign int64
	operator string
}

// Run steps until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	t := time.NewTicker(r.every())
	defer t.Stop()
	for {
		if err := r.Step(ctx); err != nil {
			r.log().Warn("campaigns", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Runner) every() time.Duration {
	if r.Every > 0 {
		return r.Every
	}
	return time.Second
}

// Step queues one chunk of each running campaign whose window is open.
func (r *Runner) Step(ctx context.Context) error {
	all, err := r.Store.Campaigns(ctx, "*")
	if err != nil {
		return fmt.Errorf("campaigns: listing: %w", err)
	}
	now := r.now()
	if r.credit == nil {
		r.credit, r.opCredit = map[int64]float64{}, map[opKey]float64{}
	}
	for _, c := range all {
		if c.State != Running || !c.Open(now) {
			continue
		}
		n := r.Chunk
		if n <= 0 {
			n = 500
		}
		// At most a chunk waits in the outbox: a pause, a cancel or the
		// window's end holds back all but that.
		p, err := r.Store.Progress(ctx, c.ID)
		if err != nil {
			return fmt.Errorf("campaigns: counting campaign %d: %w", c.ID, err)
		}
		queued := 0
		for _, row := range p.Counts {
			queued += row.Queued
		}
		if queued >= n {
			continue
		}
		n -= queued
		if c.Rate > 0 {
			r.credit[c.ID] = min(r.credit[c.ID]+c.Rate*r.every().Seconds(), float64(n))
			n = int(r.credit[c.ID])
			if n == 0 {
				continue
			}
			r.credit[c.ID] -= float64(n)
		}
		// Each rated operator's credit; the numbers held back for it
		// earlier go first when it has some.
		var held map[string]int
		if r.Routes != nil {
			for op, rate := range c.Rates {
				k := opKey{c.ID, op}
				r.opCredit[k] = min(r.opCredit[k]+rate*r.every().Seconds(), max(rate*r.every().Seconds(), 1))
				if n := int(r.opCredit[k]); n > 0 {
					if held == nil {
						held = map[string]int{}
					}
					held[op] = n
				}
			}
		}
		charged := r.Allowance != nil && c.Key != ""
		if charged {
			took, reason, err := r.Allowance.Take(ctx, c.Key, n)
			if err != nil {
				return fmt.Errorf("campaigns: the day of campaign %d's key: %w", c.ID, err)
			}
			if took == 0 {
				if _, err := r.Store.PauseFor(ctx, c.ID, reason, now); err != nil && guichet.ErrorCode(err) != guichet.ECONFLICT {
					return fmt.Errorf("campaigns: pausing campaign %d: %w", c.ID, err)
				}
				r.log().Warn("campaign paused", "campaign", c.ID, "owner", c.Owner, "key_id", c.Key, "reason", reason)
				continue
			}
			n = took
		}
		var sent int
		left, err := r.Store.QueueNext(ctx, c.ID, n, held, r.compose(c, n, &sent))
		if charged {
			spare := n - sent
			if err != nil {
				spare = n // nothing was written
			}
			if spare > 0 {
				if gerr := r.Allowance.Give(context.WithoutCancel(ctx), c.Key, spare); gerr != nil {
					r.log().Warn("giving back a key's messages of the day", "campaign", c.ID, "key_id", c.Key, "err", gerr)
				}
			}
		}
		if err != nil {
			return fmt.Errorf("campaigns: queueing campaign %d: %w", c.ID, err)
		}
		if left == 0 {
			if _, err := r.Store.SetState(ctx, c.ID, []string{Running}, Done, now); err != nil {
				return fmt.Errorf("campaigns: ending campaign %d: %w", c.ID, err)
			}
			r.log().Info("campaign done", "campaign", c.ID, "owner", c.Owner)
		}
	}
	return nil
}

// compose makes a step's messages, n at most over the pages the store
// asks about: nothing to those who sent STOP, each other in their language
// (their choice on the phone, else their latest case's, else French). A
// number whose operator's rate is spent waits, held for that operator; one
// past the step's n waits for the next step. Only the numbers that may go
// are looked up. It counts in sent the messages it made.
func (r *Runner) compose(c Campaign, n int, sent *int) Compose {
	budget := n
	return func(ctx context.Context, phones []string) ([]Queued, error) {
		q := make([]Queued, len(phones))
		var may []int               // indexes of the numbers that may go
		charged := map[int]string{} // the rated operator each of those took credit from
		for i, p := range phones {
			op, ok := r.operator(p)
			rated := ok && c.Rates[op] > 0
			switch {
			case rated && r.opCredit[opKey{c.ID, op}] < 1:
				q[i] = Queued{Phone: p, Later: true, Operator: op}
			case budget <= 0:
				q[i] = Queued{Phone: p, Later: true}
			default:
				budget--
				if rated {
					r.opCredit[opKey{c.ID, op}]--
					charged[i] = op
				}
				may = append(may, i)
			}
		}
		if len(may) == 0 {
			return q, nil
		}
		asked := make([]string, len(may))
		for k, i := range may {
			asked[k] = phones[i]
		}
		out, langs, err := r.Audience.Citizens(ctx, asked)
		if err != nil {
			return nil, err
		}
		for _, i := range may {
			p := phones[i]
			if out[p] {
				q[i] = Queued{Phone: p, Skip: "sent STOP"}
				budget++ // sends nothing: the step's share and the rate go to another
				if op, ok := charged[i]; ok {
					r.opCredit[opKey{c.ID, op}]++
				}
				continue
			}
			lang := "fr"
			if l := langs[p]; l == "en" || l == "fr" {
				lang = l
			}
			if r.Languages != nil {
				if l := r.Languages.Language(ctx, p); l == "en" || l == "fr" {
					lang = l
				}
			}
			body, lang := c.TextFor(lang)
			q[i] = Queued{Phone: p, Lang: lang, Body: body}
			*sent++
		}
		return q, nil
	}
}

// operator is p's operator, if the Runner has Routes.
func (r *Runner) operator(p string) (string, bool) {
	if r.Routes == nil {
		return "", false
	}
	return r.Routes.Operator(p)
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.New(slog.DiscardHandler)
}
