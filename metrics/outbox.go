package metrics

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/guichet/guichet/outbox"
)

// Backlogs counts the messages waiting to be sent by the first digits of
// their numbers: postgres.Outbox and outbox.Memory do.
type Backlogs interface {
	Backlog(ctx context.Context, digits int) ([]outbox.Backlog, error)
}

// Router picks a number's operator, from its first Longest digits
// (*smpp.Routes).
type Router interface {
	Operator(e164 string) (string, bool)
	Longest() int
}

// backlog is guichet_outbox_backlog{operator} and
// guichet_outbox_oldest_age_seconds{operator}, asked of the store when
// scraped (the fleet's: the queue is shared).
type backlog struct {
	store     Backlogs
	routes    Router
	operators []string
	now       func() time.Time
	timeout   time.Duration
	count     *prometheus.Desc
	age       *prometheus.Desc
	errors    *prometheus.Desc
	failed    atomic.Uint64
}

// BacklogTimeout bounds the store's answer to one scrape.
const BacklogTimeout = 2 * time.Second

// RegisterBacklog exposes the outbox's backlog by operator: the messages
// pending or claimed (guichet_outbox_backlog) and how long the oldest has
// waited (guichet_outbox_oldest_age_seconds, 0 with none), each
// configured operator's even when nothing waits ("none": numbers without
// a route); and guichet_outbox_backlog_errors_total, the scrapes the
// store did not answer within BacklogTimeout (the gauges are then left
// out). now is the clock of the messages' dates (nil: time.Now).
func RegisterBacklog(reg prometheus.Registerer, store Backlogs, routes Router, operators []string, now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	reg.MustRegister(&backlog{store: store, routes: routes, operators: operators, now: now, timeout: BacklogTimeout,
		count:  prometheus.NewDesc("guichet_outbox_backlog", "SMS waiting to be sent (pending, or claimed by a dispatcher), by operator: the fleet's.", []string{"operator"}, nil),
		age:    prometheus.NewDesc("guichet_outbox_oldest_age_seconds", "How long the oldest SMS waiting to be sent has waited, by operator (0: none waits).", []string{"operator"}, nil),
		errors: prometheus.NewDesc("guichet_outbox_backlog_errors_total", "Scrapes whose backlog query failed or took over "+BacklogTimeout.String()+".", nil, nil),
	})
}

func (b *backlog) Describe(ch chan<- *prometheus.Desc) { ch <- b.count; ch <- b.age; ch <- b.errors }

func (b *backlog) Collect(ch chan<- prometheus.Metric) {
	defer func() {
		ch <- prometheus.MustNewConstMetric(b.errors, prometheus.CounterValue, float64(b.failed.Load()))
	}()
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	rows, err := b.store.Backlog(ctx, max(b.routes.Longest(), 1))
	if err != nil {
		b.failed.Add(1)
		return
	}
	type sum struct {
		n      int
		oldest time.Time
	}
	by := map[string]*sum{}
	for _, op := range b.operators {
		by[op] = &sum{}
	}
	for _, r := range rows {
		op, ok := b.routes.Operator("+" + r.Prefix)
		if !ok {
			op = "none"
		}
		s := by[op]
		if s == nil {
			s = &sum{}
			by[op] = s
		}
		s.n += r.N
		if s.oldest.IsZero() || r.Oldest.Before(s.oldest) {
			s.oldest = r.Oldest
		}
	}
	now := b.now()
	for op, s := range by {
		age := 0.0
		if !s.oldest.IsZero() {
			age = max(0, now.Sub(s.oldest).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(b.count, prometheus.GaugeValue, float64(s.n), op)
		ch <- prometheus.MustNewConstMetric(b.age, prometheus.GaugeValue, age, op)
	}
}
