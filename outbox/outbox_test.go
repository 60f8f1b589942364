package outbox_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guichet/guichet/adapters"
	"github.com/guichet/guichet/outbox"
)

// store is an outbox in a slice, claims with leases like the real ones.
type store struct {
	mu     sync.Mutex
	msgs   []adapters.Message
	leases map[int64]time.Time
	failAt int // ClaimMessages fails on this call (1-based); 0: never
	calls  int
}

func (s *store) ClaimMessages(_ context.Context, limit int, lease time.Duration, now time.Time) ([]adapters.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.calls == s.failAt {
		return nil, fmt.Errorf("connection reset")
	}
	var out []adapters.Message
	for i := range s.msgs {
		m := &s.msgs[i]
		if len(out) == limit {
			break
		}
		if m.Status == "pending" || (m.Status == "sending" && now.After(s.leases[m.ID])) {
			m.Status = "sending"
			s.leases[m.ID] = now.Add(lease)
			out = append(out, *m)
		}
	}
	return out, nil
}

func (s *store) MarkMessage(_ context.Context, id int64, status, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.msgs {
		if s.msgs[i].ID == id {
			s.msgs[i].Status = status
			return nil
		}
	}
	return fmt.Errorf("no message %d", id)
}

func newStore(n int) *store {
	s := &store{leases: map[int64]time.Time{}}
	for i := 1; i <= n; i++ {
		s.msgs = append(s.msgs, adapters.Message{ID: int64(i), Phone: "+237677123456", Lang: "fr", Kind: "moved",
			CaseRef: "20000011", Body: "Dossier 20000011: En traitement. Appelez le 677 12 34 56.", Status: "pending"})
	}
	return s
}

func TestDrainLogsEveryMessageOnce(t *testing.T) {
	s := newStore(250)
	var logs bytes.Buffer
	l := &outbox.LogSender{Store: s, Log: slog.New(slog.NewTextHandler(&logs, nil)), Batch: 100}
	n, err := l.Drain(context.Background())
	if err != nil || n != 250 {
		t.Fatalf("Drain = %d, %v; want 250", n, err)
	}
	for _, m := range s.msgs {
		if m.Status != "logged" {
			t.Fatalf("message %d left %s", m.ID, m.Status)
		}
	}
	if n, _ := l.Drain(context.Background()); n != 0 {
		t.Errorf("a second drain logged %d again", n)
	}
	if strings.Contains(logs.String(), "677123456") || strings.Contains(logs.String(), "677 12 34 56") {
		t.Errorf("a phone number reached the log:\n%.300s", logs.String())
	}
}

// A sender that dies after claiming leaves its messages to the next one
// once the lease ends: nothing is lost.
func TestDeadSendersClaimsComeBack(t *testing.T) {
	s := newStore(3)
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	if msgs, _ := s.ClaimMessages(context.Background(), 10, 30*time.Second, now); len(msgs) != 3 {
		t.Fatal("setup: claim failed")
	}
	l := &outbox.LogSender{Store: s, Log: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)), Lease: 30 * time.Second,
		Now: func() time.Time { return now.Add(10 * time.Second) }}
	if n, _ := l.Drain(context.Background()); n != 0 {
		t.Fatalf("took %d messages still under another's lease", n)
	}
	l.Now = func() time.Time { return now.Add(31 * time.Second) }
	if n, _ := l.Drain(context.Background()); n != 3 {
		t.Fatalf("after the lease: %d, want 3", n)
	}
}

func TestDrainReportsStoreErrors(t *testing.T) {
	s := newStore(1)
	s.failAt = 1
	l := &outbox.LogSender{Store: s, Log: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))}
	if _, err := l.Drain(context.Background()); err == nil {
		t.Fatal("a failing store gave no error")
	}
	if n, err := l.Drain(context.Background()); err != nil || n != 1 {
		t.Fatalf("after recovery: %d, %v", n, err)
	}
}
