package inbox_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/inbox"
	"github.com/guichet/guichet/sessions"
	"github.com/guichet/guichet/sessions/sessionstest"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/sms"
)

// sharedStores are the stores a fleet's inboxes may share: Redis, as in
// production, and memory, as one gateway alone.
func sharedStores(t *testing.T) map[string]func(r *rig) inbox.Shared {
	return map[string]func(r *rig) inbox.Shared{
		"memory": func(r *rig) inbox.Shared { return sessions.NewMemory(func() time.Time { return r.now }) },
		"redis": func(*rig) inbox.Shared {
			client, prefix := sessionstest.Redis(t)
			return sessions.NewRedis(client, prefix)
		},
	}
}

// failing is a case store whose AnswerOnce fails while fail is set, as a
// database that went away.
type failing struct {
	inbox.Store
	fail atomic.Bool
}

func (f *failing) AnswerOnce(ctx context.Context, key string, do func(ctx context.Context, w cases.Replies) error) (bool, error) {
	if f.fail.Load() {
		return false, errors.New("connection refused")
	}
	return f.Store.AnswerOnce(ctx, key, do)
}

// fleet is two inboxes, as two gateways, on one case store and one shared
// store.
func fleet(t *testing.T, r *rig, shared inbox.Shared) ([2]*inbox.Inbox, *failing) {
	store := &failing{Store: r.store}
	var xs [2]*inbox.Inbox
	for i := range xs {
		x := r.x // the rig's settings; a fresh inbox
		xs[i] = &inbox.Inbox{Store: store, Cases: x.Cases, Languages: x.Languages, Region: x.Region, Now: x.Now, Shared: shared}
	}
	return xs, store
}

func longSMS(t *testing.T, text string) sms.Message {
	m, err := sms.Encode(text, sms.Options{})
	if err != nil || len(m.Parts) < 3 {
		t.Fatalf("setup: %d parts, %v", len(m.Parts), err)
	}
	return m
}

func inbound(from string, m sms.Message, i int) smpp.Inbound {
	return smpp.Inbound{SourceAddr: from, DestAddr: "8080", ESMClass: m.ESMClass, DataCoding: m.DataCoding, ShortMessage: m.Parts[i]}
}

func (r *rig) answers(t *testing.T, phone string) int {
	msgs, err := r.out.Messages(t.Context(), phone, 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(msgs)
}

// A long SMS whose parts reach two gateways, out of order and one of them
// twice, is answered once, by whichever got the last part.
func TestPartsOnTwoGateways(t *testing.T) {
	for name, shared := range sharedStores(t) {
		t.Run(name, func(t *testing.T) {
			r := newRig(t)
			xs, _ := fleet(t, r, shared(r))
			const from = "+237677000501"
			m := longSMS(t, "SUIVI 10000048 "+strings.Repeat("merci beaucoup ", 25))
			order := []int{2, 0, 0, 1} // the first part twice
			for k, i := range order {
				if err := xs[k%2].Handle(t.Context(), inbound(from, m, i)); err != nil {
					t.Fatal(err)
				}
				if want := map[bool]int{true: 1, false: 0}[k == len(order)-1]; r.answers(t, from) != want {
					t.Fatalf("after part %d at gateway %d: %d answers, want %d", i+1, k%2, r.answers(t, from), want)
				}
			}
			msgs, _ := r.out.Messages(t.Context(), from, 10)
			if !strings.Contains(msgs[0].Body, "Dossier 10000048") {
				t.Errorf("answer %q, want the case's status", msgs[0].Body)
			}
			// The last part sent to both at once, again: still one answer.
			var wg sync.WaitGroup
			for _, x := range xs {
				wg.Go(func() {
					if err := x.Handle(t.Context(), inbound(from, m, 1)); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if n := r.answers(t, from); n != 1 {
				t.Errorf("%d answers after the last part came again to both gateways, want 1", n)
			}
		})
	}
}

// Two gateways count a number's SMS together: PerMinute answers in all,
// and a copy the SMSC sends to the other gateway is answered once.
func TestFloodAndCopiesAcrossGateways(t *testing.T) {
	for name, shared := range sharedStores(t) {
		t.Run(name, func(t *testing.T) {
			r := newRig(t)
			xs, _ := fleet(t, r, shared(r))
			r.x = xs[0]
			if n := len(r.send(t, "237677000601", "AIDE")); n != 1 {
				t.Fatalf("%d answers, want 1", n)
			}
			r.now = r.now.Add(9 * time.Minute)
			r.x = xs[1]
			if n := len(r.send(t, "237677000601", "AIDE")); n != 0 {
				t.Errorf("a copy 9 minutes later at the other gateway got %d answers, want 0", n)
			}
			r.now = r.now.Add(2 * time.Minute) // 11 minutes after the first: a new SMS
			if n := len(r.send(t, "237677000601", "AIDE")); n != 1 {
				t.Errorf("the same text 11 minutes after the first got %d answers, want 1", n)
			}
			replies := 0
			for i := range 8 {
				r.x = xs[i%2]
				replies += len(r.send(t, "237677000602", "SUIVI 1000004"+string(rune('0'+i))))
			}
			if replies != 5 {
				t.Errorf("8 SMS in a minute to two gateways got %d answers, want 5", replies)
			}
			if f := xs[0].Counts().Flooded + xs[1].Counts().Flooded; f != 3 {
				t.Errorf("%d counted flooded, want 3", f)
			}
		})
	}
}

// A sender of parts that never complete is bounded: ten parts a minute for
// each SMS PerMinute allows, the rest ignored, and what is held expires.
func TestPartsBounded(t *testing.T) {
	r := newRig(t)
	shared := sessions.NewMemory(func() time.Time { return r.now })
	xs, _ := fleet(t, r, shared)
	const from = "+237677000701"
	m := longSMS(t, "SUIVI 10000048 "+strings.Repeat("merci beaucoup ", 25))
	for ref := range 60 {
		p := append([]byte{}, m.Parts[0]...)
		p[3] = byte(ref) // another message each time
		in := inbound(from, m, 0)
		in.ShortMessage = p
		if err := xs[0].Handle(t.Context(), in); err != nil {
			t.Fatal(err)
		}
	}
	if f := xs[0].Counts().Flooded; f != 10 {
		t.Errorf("%d parts ignored of 60 in a minute, want 10 (50 allowed)", f)
	}
	// The parts held wait PartsTimeout, then are gone: the rest of a
	// message after that does not complete it.
	r.now = r.now.Add(inbox.PartsTimeout + time.Minute)
	for _, i := range []int{1, 2} {
		if err := xs[1].Handle(t.Context(), inbound(from, m, i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.answers(t, from); n != 0 {
		t.Errorf("parts completed a set after it expired: %d answers", n)
	}
}

// When the answer cannot be stored, Handle fails, so the SMSC sends the
// part again; the parts kept meanwhile make the second try complete.
func TestPartsKeptUntilAnswered(t *testing.T) {
	for name, shared := range sharedStores(t) {
		t.Run(name, func(t *testing.T) {
			r := newRig(t)
			xs, store := fleet(t, r, shared(r))
			const from = "+237677000801"
			m := longSMS(t, "SUIVI 10000048 "+strings.Repeat("merci beaucoup ", 25))
			for _, i := range []int{0, 1} {
				if err := xs[0].Handle(t.Context(), inbound(from, m, i)); err != nil {
					t.Fatal(err)
				}
			}
			store.fail.Store(true)
			if err := xs[0].Handle(t.Context(), inbound(from, m, 2)); err == nil {
				t.Fatal("the answer was not stored and Handle said nothing")
			}
			store.fail.Store(false)
			if err := xs[1].Handle(t.Context(), inbound(from, m, 2)); err != nil {
				t.Fatal(err)
			}
			if n := r.answers(t, from); n != 1 {
				t.Errorf("%d answers after the last part came again, want 1", n)
			}
		})
	}
}

// An SMS whose answer cannot be stored comes again and again: those copies
// do not count against its number's limit, so once the store is back it is
// answered, not dropped as a flood.
func TestRedeliveriesAreNoFlood(t *testing.T) {
	r := newRig(t)
	xs, store := fleet(t, r, sessions.NewMemory(func() time.Time { return r.now }))
	const from = "237677000901"
	in := smpp.Inbound{SourceAddr: from, DestAddr: "8080", ShortMessage: []byte("STOP")}
	store.fail.Store(true)
	for range 8 {
		if err := xs[0].Handle(t.Context(), in); err == nil {
			t.Fatal("the answer was not stored and Handle said nothing")
		}
	}
	store.fail.Store(false)
	if err := xs[1].Handle(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	if out, err := r.store.OptedOut(t.Context(), "+"+from); err != nil || !out {
		t.Errorf("a STOP delivered nine times while the store was down: opted out %v, %v; want true", out, err)
	}
}
