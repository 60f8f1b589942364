package ussd_test

import (
	"context"
	"testing"
	"time"

	"github.com/guichet/guichet/ussd"
)

// View reads a dialogue without moving it: the screen last shown, the
// input type an input node waits for ("" on a choice), the hops, the end;
// nothing for a phone that never dialled, and for another slot.
func TestView(t *testing.T) {
	f := newFixture(t, nil, ussd.Config{}, nil)
	ctx := context.Background()
	const ph = "+237677000001"
	if _, ok := f.eng.View(ctx, "", ph); ok {
		t.Fatal("a view of a phone that never dialled")
	}
	web := func(in, hop string) ussd.Reply {
		return f.step(t, ussd.Request{SessionID: "w1", Phone: ph, Operator: "web", Dialect: "web", Channel: "web", Input: in, HopKey: hop})
	}
	web("", "0")
	steps := []struct {
		in, input string
		end       bool
	}{
		{"1", "", false},     // French: the home menu
		{"2", "", false},     // birth certificate: offices
		{"1", "text", false}, // the name
		{"Awa Ngono", "date", false},
		{"02031990", "", false}, // confirm
		{"1", "", true},         // the case
	}
	for i, s := range steps {
		rep := web(s.in, string(rune('a'+i)))
		v, ok := f.eng.View(ctx, "", ph)
		if !ok {
			t.Fatalf("after %q: no view", s.in)
		}
		if v.Text != rep.Text || v.End != s.end || v.Input != s.input || v.SessionID != "w1" || v.Hops != i+2 {
			t.Errorf("after %q: view %+v, want the reply %q, end %v, input %q, hops %d", s.in, v, rep.Text, s.end, s.input, i+2)
		}
	}
	if _, ok := f.eng.View(ctx, "hotline:awa", ph); ok {
		t.Error("a view in a slot the phone's dialogue is not in")
	}
}

// A web page's dialogue waits for the next page longer than a handset's:
// ten minutes on, it is still there; a USSD dialogue is not.
func TestWebDialogueWaits(t *testing.T) {
	f := newFixture(t, nil, ussd.Config{}, nil)
	ctx := context.Background()
	const web, ussdPhone = "+237677000001", "+237677000002"
	f.step(t, ussd.Request{SessionID: "w1", Phone: web, Operator: "web", Dialect: "web", Channel: "web", HopKey: "0"})
	f.step(t, at("u1", ussdPhone, ""))
	f.now = f.now.Add(10 * time.Minute)
	if _, ok := f.eng.View(ctx, "", web); !ok {
		t.Error("the web dialogue is gone after ten minutes")
	}
	if _, ok := f.eng.View(ctx, "", ussdPhone); ok {
		t.Error("a USSD dialogue is kept ten minutes")
	}
	f.now = f.now.Add(21 * time.Minute)
	if _, ok := f.eng.View(ctx, "", web); ok {
		t.Error("the web dialogue is kept past 30 minutes")
	}
}
