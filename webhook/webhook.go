// Package webhook delivers the administrations' delivery callbacks: each
// final state of a message an API key sent is POSTed as JSON to the key's
// HTTPS URL, signed with HMAC-SHA256 under the key's secret, from a durable
// queue (postgres: the webhooks table), at least once, with backoff, for
// 24 hours. It runs apart from the SMS path: a receiver that hangs or
// fails costs retries here, never an SMS.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/guichet/guichet/outbox"
)

// Call is one callback due: a message's final state, for the key that sent
// it, to the URL and with the secret the key has now.
type Call struct {
	ID       int64
	Attempts int       // tries so far, this one included
	At       time.Time // when the message reached the state
	URL      string    // "": the key has no callback (any more)
	Secret   string
	Message  outbox.Message
}

// Store is the queue of callbacks.
type Store interface {
	// ClaimWebhooks takes up to limit callbacks due at now, each for lease
	// (another sender skips it meanwhile), its attempts counted.
	ClaimWebhooks(ctx context.Context, limit int, now time.Time, lease time.Duration) ([]Call, error)
	// DoneWebhook removes a callback: delivered, or given up.
	DoneWebhook(ctx context.Context, id int64) error
	// RetryWebhook puts a callback back for next, saying why it failed.
	RetryWebhook(ctx context.Context, id int64, next time.Time, reason string) error
	// QueuedWebhooks counts the callbacks in the queue, due or waiting
	// for a retry (the fleet's: every gateway sees the same queue).
	QueuedWebhooks(ctx context.Context) (int, error)
}

// Headers of a callback.
const (
	HeaderTimestamp = "X-Guichet-Timestamp" // Unix seconds when it was signed
	HeaderSignature = "X-Guichet-Signature" // "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)
)

// Sign is the signature of body sent at ts under secret, as the header
// carries it: what a receiver computes to check a callback.
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%d.", ts)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// NewSecret returns a fresh signing secret.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b)
}

// Defaults of Sender.
const (
	GiveUpAfter = 24 * time.Hour
	// lease holds a claimed callback from the other gateways: twice the
	// longest its attempt takes (a claim is one round of the workers,
	// each at most the client's 10 s).
	lease = 20 * time.Second
)

// Sender POSTs the callbacks of the queue.
type Sender struct {
	Store   Store
	Client  *http.Client     // Client(...) keeps it off private addresses
	Workers int              // callbacks in flight at once (16)
	Every   time.Duration    // how often Run looks when the queue is empty (1 s)
	Now     func() time.Time // nil: time.Now
	Log     *slog.Logger

	delivered, retried, dropped atomic.Uint64
	queued                      atomic.Int64
}

// Stats counts what the Sender did since start, and how many callbacks
// the queue held when Run last looked (about every Every).
type Stats struct {
	Delivered, Retried, GivenUp uint64
	Queued                      int64
}

// Stats reports what the Sender did, for /metrics.
func (s *Sender) Stats() Stats {
	return Stats{Delivered: s.delivered.Load(), Retried: s.retried.Load(), GivenUp: s.dropped.Load(), Queued: s.queued.Load()}
}

// count looks at the queue's depth for Stats.
func (s *Sender) count(ctx context.Context) {
	n, err := s.Store.QueuedWebhooks(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log().Warn("counting the delivery callbacks queued", "err", err)
		}
		return
	}
	s.queued.Store(int64(n))
}

// Run sends callbacks until ctx ends.
func (s *Sender) Run(ctx context.Context) {
	every := s.Every
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		counted := time.Now()
		s.count(ctx)
		for {
			n, err := s.Drain(ctx)
			if err != nil {
				s.log().Warn("delivery callbacks", "err", err)
			}
			if err != nil || n == 0 || ctx.Err() != nil {
				break
			}
			if time.Since(counted) >= every { // a long backlog: its depth still moves
				counted = time.Now()
				s.count(ctx)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Drain sends one claim of callbacks due and returns how many it took.
func (s *Sender) Drain(ctx context.Context) (int, error) {
	workers := s.Workers
	if workers <= 0 {
		workers = 16
	}
	calls, err := s.Store.ClaimWebhooks(ctx, workers, s.now(), lease)
	if err != nil {
		return 0, fmt.Errorf("webhook: claiming callbacks: %w", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, workers)
	for _, c := range calls {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := s.deliver(ctx, c); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return len(calls), errs[0]
	}
	return len(calls), nil
}

// deliver makes one attempt and records what came of it; it returns only
// the store's errors.
func (s *Sender) deliver(ctx context.Context, c Call) error {
	if c.URL == "" {
		s.dropped.Add(1)
		return s.Store.DoneWebhook(ctx, c.ID) // the key has no callback any more
	}
	body, _ := json.Marshal(outbox.ReportOf(c.Message))
	now := s.now()
	err := s.post(ctx, c, body, now.Unix())
	if err == nil {
		s.delivered.Add(1)
		return s.Store.DoneWebhook(ctx, c.ID)
	}
	if now.Sub(c.At) >= GiveUpAfter {
		s.dropped.Add(1)
		s.log().Warn("delivery callback given up after 24 hours", "message_id", c.Message.ID, "attempts", c.Attempts, "err", err)
		return s.Store.DoneWebhook(ctx, c.ID)
	}
	s.retried.Add(1)
	return s.Store.RetryWebhook(ctx, c.ID, now.Add(Backoff(c.Attempts)), err.Error())
}

func (s *Sender) post(ctx context.Context, c Call, body []byte, ts int64) error {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Guichet-Callback/1")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(c.Secret, ts, body))
	req.Header.Set("X-Guichet-Message", strconv.FormatInt(c.Message.ID, 10))
	client := s.Client
	if client == nil {
		client = Client(nil, nil)
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL, its tokens with it, stays out of logs and the queue
		}
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the receiver answered %s", resp.Status)
	}
	return nil
}

// Backoff is the wait after attempts failed tries: 5 s doubling, at most an
// hour.
func Backoff(attempts int) time.Duration {
	d := 5 * time.Second
	for i := 1; i < attempts && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sender) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}
