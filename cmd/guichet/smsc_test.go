package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/guichet/guichet/phone/phonetest"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/sms"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// guichet smsc: a bind sends an SMS, it shows up in /submitted with its
// text decoded, a receipt comes back, and an SMS injected over HTTP reaches
// the bind's handler.
func TestSMSCCommand(t *testing.T) {
	smppAddr, httpAddr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"smsc", "--smpp", smppAddr, "--http", httpAddr, "--receipt-delay", "50ms"}, nil, io.Discard, io.Discard, nil)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("smsc: %v", err)
		}
	}()

	var mu sync.Mutex
	var got []smpp.Inbound
	var b *smpp.Bind
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		b, err = smpp.Dial(ctx, smpp.BindConfig{Addr: smppAddr, SystemID: "guichet", Password: "x",
			Handler: func(_ context.Context, in smpp.Inbound) error {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, in)
				return nil
			}})
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("binding to the simulator: %v", err)
	}
	defer b.Close(context.Background())

	m, err := sms.Encode("Dossier 20000011: Disponible au guichet.", sms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id, err := b.Submit(ctx, &smpp.SubmitSM{SourceAddr: "8080", DestAddr: "237677123456", DataCoding: m.DataCoding,
		ShortMessage: m.Parts[0], RegisteredDelivery: 1})
	if err != nil || id == "" {
		t.Fatalf("submit: %q, %v", id, err)
	}
	resp, err := http.Get("http://" + httpAddr + "/submitted")
	if err != nil {
		t.Fatal(err)
	}
	var subs []submission
	json.NewDecoder(resp.Body).Decode(&subs)
	resp.Body.Close()
	if len(subs) != 1 || subs[0].Text != "Dossier 20000011: Disponible au guichet." || subs[0].MessageID != id {
		t.Errorf("/submitted = %+v", subs)
	}

	resp, err = http.Post("http://"+httpAddr+"/inject/sms", "application/json",
		strings.NewReader(`{"from":"237677123456","to":"8080","text":"SUIVI 20000011"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("inject: %d", resp.StatusCode)
	}
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 2 {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	var receipt, inbound bool
	for _, in := range got {
		receipt = receipt || in.Kind == smpp.KindReceipt
		if in.Kind == smpp.KindMessage {
			text, _, _ := sms.Decode(in.DataCoding, in.ESMClass, in.ShortMessage)
			inbound = inbound || text == "SUIVI 20000011"
		}
	}
	if !receipt || !inbound {
		t.Errorf("the bind got a receipt: %v, the injected SMS: %v (%d PDUs)", receipt, inbound, len(got))
	}
}

// An SMPP operator configured twice is refused before any bind is dialled
// (its metrics would clash, and the SMSC would see twice the binds).
func TestSMSCsRefuseAnOperatorTwice(t *testing.T) {
	cfg := defaultConfig()
	op := SMSCConfig{Name: "mtn", Addr: "127.0.0.1:1", SystemID: "guichet"}
	cfg.SMPP = SMPPConfig{Operators: []SMSCConfig{op, op}}
	_, err := startSMSCs(cfg, nil, prometheus.NewRegistry(), phonetest.NewLog(t).Logger(), func(string) smpp.Handler { return nil }, nil)
	if err == nil || !strings.Contains(err.Error(), "operator mtn is configured twice") {
		t.Errorf("startSMSCs with mtn twice = %v, want it refused", err)
	}
}
