// Package outbox drains the messages to citizens that the case store wrote
// in the same transaction as the changes that caused them: Dispatcher sends
// them over the operators' SMPP binds and applies their delivery receipts;
// LogSender, where no SMSC is configured, writes what it would send to the
// log.
package outbox

import (
	"context"
	"log/slog"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/guichet/guichet/adapters"
	"github.com/guichet/guichet/phone"
)

// longNumbers are digit runs that may be phone numbers: masked in logs.
var longNumbers = regexp.MustCompile(`\+?[0-9][0-9 ]{8,}[0-9]`)

// Store is what draining needs of the outbox.
type Store interface {
	ClaimMessages(ctx context.Context, limit int, lease time.Duration, now time.Time) ([]adapters.Message, error)
	MarkMessage(ctx context.Context, id int64, status, reason string) error
}

// LogSender claims pending messages and logs them instead of sending them:
// the embedded default and the stand-in until an SMSC is configured. Claims
// carry a lease, so a message claimed by a process that died is claimed
// again by another: nothing is lost between the change and the send.
type LogSender struct {
	Store Store
	Log   *slog.Logger
	Every time.Duration    // how often to look (default 1 s)
	Batch int              // messages per claim (default 100)
	Lease time.Duration    // how long a claim holds (default 30 s)
	Now   func() time.Time // nil: time.Now
}

// Drain handles what is pending now and returns how many it logged.
func (l *LogSender) Drain(ctx context.Context) (int, error) {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	batch, lease := l.Batch, l.Lease
	if batch <= 0 {
		batch = 100
	}
	if lease <= 0 {
		lease = 30 * time.Second
	}
	n := 0
	for {
		msgs, err := l.Store.ClaimMessages(ctx, batch, lease, now())
		if err != nil {
			return n, err
		}
		for _, m := range msgs {
			l.Log.Info("would send an SMS (no SMSC configured)", "msg_id", m.ID, "phone", phone.Mask(m.Phone),
				"kind", m.Kind, "case_ref", m.CaseRef, "lang", m.Lang, "chars", utf8.RuneCountInString(m.Body), "text", longNumbers.ReplaceAllString(m.Body, "*********"))
			if err := l.Store.MarkMessage(ctx, m.ID, "logged", ""); err != nil {
				return n, err
			}
			n++
		}
		if len(msgs) < batch {
			return n, nil
		}
	}
}

// Run drains until ctx ends.
func (l *LogSender) Run(ctx context.Context) {
	every := l.Every
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := l.Drain(ctx); err != nil && ctx.Err() == nil {
			l.Log.Error("draining the outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
