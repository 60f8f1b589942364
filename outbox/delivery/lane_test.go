package delivery_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/outbox/delivery"
	"github.com/guichet/guichet/smpp"
)

// byPrefix routes +237699… to "orange", every other number to "mtn".
type byPrefix struct{}

func (byPrefix) Operator(phone string) (string, bool) {
	if strings.HasPrefix(phone, "+237699") {
		return "orange", true
	}
	return "mtn", true
}

// stuck is a bind with a window of its own whose SMSC answers nothing
// until release is closed.
type stuck struct {
	window  int
	release chan struct{}
}

func (s *stuck) Name() string { return "mtn-1" }
func (s *stuck) Window() int  { return s.window }
func (s *stuck) Submit(ctx context.Context, m *smpp.SubmitSM) (string, error) {
	select {
	case <-s.release:
		return "id-" + m.DestAddr, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// A claim of 400 messages to an operator whose SMSC stopped answering
// (window 5) holds a few goroutines, not one a message parked in the
// window's queue, and the 50 messages to another operator claimed behind
// them leave meanwhile; once the SMSC answers again, every message goes
// once.
func TestDispatchLanes(t *testing.T) {
	s := newMemory()
	var msgs []outbox.Message
	for i := range 400 {
		msgs = append(msgs, outbox.Message{Phone: fmt.Sprintf("+237677%06d", i), Lang: "fr", Kind: "moved", Created: time.Now(), Body: "Dossier pret."})
	}
	for i := range 50 {
		msgs = append(msgs, outbox.Message{Phone: fmt.Sprintf("+237699%06d", i), Lang: "fr", Kind: "moved", Created: time.Now(), Body: "Dossier pret."})
	}
	if err := s.Enqueue(t.Context(), msgs); err != nil {
		t.Fatal(err)
	}
	mtn, orange := &stuck{window: 5, release: make(chan struct{})}, &submits{}
	d := &delivery.Dispatcher{Store: s, Routes: byPrefix{}, Source: "8080", Batch: 1000,
		Senders: map[string]delivery.Sender{"mtn": mtn, "orange": orange}}
	before := runtime.NumGoroutine()
	drained := make(chan error, 1)
	go func() {
		_, err := d.Drain(context.Background())
		drained <- err
	}()
	eventually(t, "orange's messages sent while mtn's SMSC is stuck", func() bool { return d.Stats().Sent == 50 })
	// The other lane's goroutines end once its queue is empty; the stuck
	// one's stay, a few.
	eventually(t, "a few goroutines for the stuck bind", func() bool { return runtime.NumGoroutine()-before <= 4*mtn.window+10 })
	close(mtn.release)
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
	if st := d.Stats(); st.Sent != 450 {
		t.Fatalf("stats %+v", st)
	}
	for i := range 50 {
		if n := orange.got[fmt.Sprintf("+237699%06d", i)]; n != 1 {
			t.Errorf("orange's message %d submitted %d times", i, n)
		}
	}
}
