package postgres_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/guichet/guichet/outbox"
)

// Sends that come at once share transactions, and a key stays a key: ten
// requests with one key at the same moment write once and all answer as
// the first; ten with keys of their own and ten without write each.
func TestSendOnceAtOnce(t *testing.T) {
	ctx := t.Context()
	s := newStore(t).Outbox()
	var wg sync.WaitGroup
	answers := make([]string, 30)
	for i := range 30 {
		wg.Go(func() {
			key := "same"
			switch {
			case i >= 20:
				key = ""
			case i >= 10:
				key = fmt.Sprint("own-", i)
			}
			msgs := []outbox.Message{{Phone: fmt.Sprintf("+2376779%05d", i), Body: "x", Owner: "health"}}
			body, err := s.SendOnce(ctx, "health", key, msgs, func(ids []int64) ([]byte, error) {
				return fmt.Appendf(nil, `{"request": %d, "ids": %d}`, i, ids), nil
			})
			if err != nil {
				t.Error(err)
				return
			}
			answers[i] = string(body)
		})
	}
	wg.Wait()
	for i := 1; i < 10; i++ {
		if answers[i] != answers[0] {
			t.Errorf("request %d with the shared key answered %s, the first %s", i, answers[i], answers[0])
		}
	}
	msgs, err := s.OwnMessages(ctx, "health", nil, 0, 100)
	if err != nil || len(msgs) != 21 {
		t.Errorf("%d messages, %v; want 21 (one for the shared key, ten own keys, ten without)", len(msgs), err)
	}
}
