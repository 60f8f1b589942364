package smpp_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/smpp/smsctest"
)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func allBound(b *smpp.Binds) func() bool {
	return func() bool {
		for _, s := range b.Status() {
			if s.State != smpp.StateBound.String() {
				return false
			}
		}
		return true
	}
}

func TestBindsRedialAndSpread(t *testing.T) {
	srv := smsctest.NewServer(smsctest.Options{SystemID: "guichet", Password: "pw"})
	defer srv.Close()
	b := startBinds("mtn", smpp.BindConfig{Addr: srv.Addr(), SystemID: "guichet", Password: "pw"}, 2, nil)
	b.Min, b.Max = 10*time.Millisecond, 50*time.Millisecond
	defer b.Close(context.Background())
	waitFor(t, "two binds", allBound(b))

	submit := func() error {
		_, err := b.Submit(t.Context(), &smpp.SubmitSM{SourceAddr: "8080", DestAddr: "237677123456", ShortMessage: []byte("hello")})
		return err
	}
	for i := 0; i < 10; i++ {
		if err := submit(); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(srv.Submitted()); n != 10 {
		t.Fatalf("the SMSC got %d submits, want 10", n)
	}
	if st := b.Stats(); st.SubmitOK != 10 || st.SubmitRTT <= 0 {
		t.Errorf("the binds' stats add to %d submits in %v, want 10", st.SubmitOK, st.SubmitRTT)
	}

	// The SMSC drops every connection: the binds come back by themselves,
	// each bound anew since the drop (they redial within 10–50 ms: a look
	// for the moment they are down may fall between two polls).
	before := b.Status()
	srv.DropAll()
	waitFor(t, "every bind bound again after the drop", func() bool {
		for i, s := range b.Status() {
			if s.State != smpp.StateBound.String() || !s.Since.After(before[i].Since) {
				return false
			}
		}
		return true
	})
	if err := submit(); err != nil {
		t.Fatalf("after redialling: %v", err)
	}
	// The counters survive the drop: they only grow.
	if st := b.Stats(); st.SubmitOK != 11 {
		t.Errorf("after a redial the binds count %d submits, want all 11", st.SubmitOK)
	}
}

func TestBindsRefusedAndClosed(t *testing.T) {
	srv := smsctest.NewServer(smsctest.Options{SystemID: "guichet", Password: "pw"})
	defer srv.Close()
	bad := startBinds("orange", smpp.BindConfig{Addr: srv.Addr(), SystemID: "guichet", Password: "wrong"}, 1, nil)
	waitFor(t, "the refusal", func() bool { return bad.Status()[0].LastErr != "" })
	if _, err := bad.Submit(t.Context(), &smpp.SubmitSM{DestAddr: "237699123456"}); !errors.Is(err, smpp.ErrNoBind) {
		t.Errorf("submit without a bind: %v, want ErrNoBind", err)
	}
	bad.Close(context.Background())

	good := startBinds("orange", smpp.BindConfig{Addr: srv.Addr(), SystemID: "guichet", Password: "pw"}, 1, nil)
	waitFor(t, "the bind", allBound(good))
	good.Close(context.Background())
	unbound := false
	for _, p := range srv.Received() {
		unbound = unbound || p.ID == smpp.CmdUnbind
	}
	if !unbound {
		t.Error("Close did not unbind")
	}
}

// A transmitter + receiver pair: submits leave on the transmitter, the
// SMSC delivers on the receiver only, and a receiver refuses to submit.
func TestBindsPair(t *testing.T) {
	srv := smsctest.NewServer(smsctest.Options{})
	defer srv.Close()
	got := make(chan smpp.Mode, 4)
	handler := func(m smpp.Mode) smpp.Handler {
		return func(context.Context, smpp.Inbound) error { got <- m; return nil }
	}
	rx := startBinds("mtn", smpp.BindConfig{Addr: srv.Addr(), Mode: smpp.Receiver, Handler: handler(smpp.Receiver)}, 1, nil)
	defer rx.Close(context.Background())
	waitFor(t, "the receiver", allBound(rx))
	tx := startBinds("mtn", smpp.BindConfig{Addr: srv.Addr(), Mode: smpp.Transmitter, Handler: handler(smpp.Transmitter)}, 1, nil)
	defer tx.Close(context.Background())
	waitFor(t, "the transmitter", allBound(tx))

	if _, err := tx.Submit(t.Context(), &smpp.SubmitSM{DestAddr: "237677123456", ShortMessage: []byte("hi")}); err != nil {
		t.Fatalf("submit on the transmitter: %v", err)
	}
	if s := srv.Submitted(); len(s) != 1 || s[0].Bind != smpp.CmdBindTransmitter {
		t.Errorf("the SMSC got %+v, want one submit on a transmitter", s)
	}
	if _, err := rx.Submit(t.Context(), &smpp.SubmitSM{DestAddr: "237677123456"}); !errors.Is(err, smpp.ErrInvalid) {
		t.Errorf("submit on the receiver: %v, want ErrInvalid", err)
	}
	// The transmitter bound last, yet the SMS goes to the receiver.
	if err := srv.Inject(t.Context(), smpp.Inbound{SourceAddr: "237677123456", DestAddr: "8080", ShortMessage: []byte("AIDE")}); err != nil {
		t.Fatal(err)
	}
	if m := <-got; m != smpp.Receiver {
		t.Errorf("the SMS reached the %v", m)
	}
	if st := tx.Status()[0].Mode + "/" + rx.Status()[0].Mode; st != "transmitter/receiver" {
		t.Errorf("status modes %s", st)
	}
}

// startBinds dials binds as serve does: NewBinds, then Start with cfg's
// handler.
func startBinds(name string, cfg smpp.BindConfig, n int, log *slog.Logger) *smpp.Binds {
	b := smpp.NewBinds(name, cfg, n, log)
	b.Start(cfg.Handler)
	return b
}
