package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/guichet/guichet/metrics"
	"github.com/guichet/guichet/outbox/delivery"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/smpp/smsc"
	"github.com/guichet/guichet/ussd"
)

// smscs are the operators' SMSCs as serve runs them.
type smscs struct {
	ops    []SMSCConfig
	binds  map[string]*smpp.Binds // what submits: transceivers or transmitters
	rx     map[string]*smpp.Binds // receivers of operators bound as a pair
	routes *smpp.Routes
	sim    *smsc.Server // the embedded default's simulator
}

// startSMSCs binds to every configured SMSC, or, in a demo (Config.Demo),
// to an SMSC simulator started in-process, so that a newcomer sees SMS
// leave and receipts come back. inbound(op) is the handler of what op's
// SMSC sends (USSD aside): complete before any bind is dialled, since a
// bind may receive as soon as it is up.
//
// hold, if not nil, makes each bind wait for this gateway to hold the right
// to it (a fleet: see postgres.DB.BindHold).
func startSMSCs(cfg Config, eng *ussd.Engine, reg prometheus.Registerer, log *slog.Logger,
	inbound func(op string) smpp.Handler, hold func(operator, mode string) func(ctx context.Context, index int) (<-chan struct{}, func(), error)) (*smscs, error) {
	s := &smscs{binds: map[string]*smpp.Binds{}, rx: map[string]*smpp.Binds{}}
	ops, routes, def := cfg.SMPP.Operators, cfg.SMPP.Routes, cfg.SMPP.Default
	if len(ops) == 0 {
		if !cfg.demo() {
			return nil, fmt.Errorf("smpp: no SMSC configured, and this is no demo")
		}
		s.sim = smsc.NewServer(smsc.Options{Receipts: true, ReceiptDelay: 2 * time.Second})
		ops = []SMSCConfig{{Name: "simulator", Addr: s.sim.Addr(), SystemID: "guichet", Source: "8080", USSD: &smpp.StandardUSSDOps}}
		routes, def = nil, "simulator"
		log.Warn("DEMO: SMS go to an in-process SMSC simulator, not to citizens; anyone who reaches the gateway can read them at /simulator/submitted", "addr", s.sim.Addr())
	} else if routes == nil {
		routes = smpp.Cameroon
	}
	s.ops = ops
	var err error
	if s.routes, err = smpp.NewRoutes(routes, def); err != nil {
		s.close(context.Background())
		return nil, fmt.Errorf("smpp routes: %w", err)
	}
	names := map[string]bool{}
	for _, op := range ops {
		if op.Name == "" || op.Addr == "" {
			s.close(context.Background())
			return nil, fmt.Errorf("smpp: every operator needs a name and an addr")
		}
		if names[op.Name] {
			s.close(context.Background())
			return nil, fmt.Errorf("smpp: operator %s is configured twice", op.Name)
		}
		names[op.Name] = true
		if op.USSD != nil {
			if err := op.USSD.Check(); err != nil {
				s.close(context.Background())
				return nil, fmt.Errorf("operator %s: %w", op.Name, err)
			}
		}
	}
	sm := metrics.NewSMPP(reg)
	for _, op := range ops {
		olog := log.With("comp", "smpp", "operator", op.Name)
		bc := smpp.BindConfig{Addr: op.Addr, SystemID: op.SystemID, Password: op.Password,
			SystemType: op.SystemType, Window: op.Window, EnquireLink: op.EnquireLink, Logger: olog, Observer: sm.Observer(op.Name)}
		newBinds := func(c smpp.BindConfig, n int) *smpp.Binds {
			if hold == nil {
				return smpp.NewBinds(op.Name, c, n, log.With("comp", "smpp"))
			}
			return smpp.NewFleetBinds(op.Name, c, n, hold(op.Name, c.Mode.String()), gatewayName(), log.With("comp", "smpp"))
		}
		var rx *smpp.Binds
		if op.Receivers > 0 {
			rc := bc
			rc.Mode = smpp.Receiver
			rx = newBinds(rc, op.Receivers)
			bc.Mode = smpp.Transmitter
		}
		tx := newBinds(bc, op.Binds)
		handler := inbound(op.Name)
		if op.USSD != nil {
			u := &smpp.USSD{Operator: op.Name, Ops: *op.USSD, Engine: eng, Reply: tx, Log: olog}
			handler = u.Handle(handler)
			metrics.RegisterUSSDDropped(reg, op.Name, u.Dropped)
		}
		s.binds[op.Name] = tx
		if rx != nil {
			s.rx[op.Name] = rx
			rx.Start(handler)
			sm.Binds(op.Name, tx, rx, tx)
		} else {
			sm.Binds(op.Name, tx, tx)
		}
		tx.Start(handler)
	}
	return s, nil
}

// names are the operators' names.
func (s *smscs) names() []string {
	out := make([]string, 0, len(s.ops))
	for _, op := range s.ops {
		out = append(out, op.Name)
	}
	return out
}

// gatewayName names this gateway in a fleet: its host and process.
func gatewayName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}

// dispatcher drains the outbox to these SMSCs: each operator's binds, rate
// and spelling, and the sender of the first that names one.
func (s *smscs) dispatcher(store delivery.DeliveryStore, commits *delivery.Commits, optOuts delivery.OptOuts, cfg Config, log *slog.Logger) *delivery.Dispatcher {
	senders, rates, translit, sources := map[string]delivery.Sender{}, map[string]rate.Limit{}, map[string]bool{}, map[string]string{}
	for _, op := range s.ops {
		senders[op.Name] = s.binds[op.Name]
		if op.Rate > 0 {
			rates[op.Name] = rate.Limit(op.Rate)
		}
		translit[op.Name] = op.Transliterate
		sources[op.Name] = op.Source // each operator's own sender; "" the default
	}
	const source = "8080"          // the sender of an operator that names none
	policy, _ := cfg.SMPP.policy() // checked when the configuration was loaded
	return &delivery.Dispatcher{Store: store, Commits: commits, OptOuts: optOuts, Routes: s.routes, Lease: cfg.SMPP.Lease, Senders: senders, Source: source, Sources: sources,
		Rate: rates, TransliterateTo: translit, Policy: policy, Now: cfg.Clock, Log: log}
}

// status serves GET /status/smpp: every bind's state.
func (s *smscs) status(w http.ResponseWriter, _ *http.Request) {
	var all []smpp.BindStatus
	for _, b := range s.binds {
		all = append(all, b.Status()...)
	}
	for _, b := range s.rx {
		all = append(all, b.Status()...)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"binds": all})
}

// close unbinds cleanly, then stops the simulator.
func (s *smscs) close(ctx context.Context) {
	for _, b := range s.binds {
		b.Close(ctx)
	}
	for _, b := range s.rx {
		b.Close(ctx)
	}
	if s.sim != nil {
		s.sim.Close()
	}
}
