package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/smpp/smsc"
	"github.com/guichet/guichet/ussd"
)

// smscs are the operators' SMSCs as serve runs them.
type smscs struct {
	binds  map[string]*smpp.Binds // what submits: transceivers or transmitters
	rx     map[string]*smpp.Binds // receivers of operators bound as a pair
	routes *smpp.Routes
	sim    *smsc.Server // the embedded default's simulator
}

// startSMSCs binds to every configured SMSC, or, on the embedded default,
// to an SMSC simulator started in-process, so that a newcomer sees SMS
// leave and receipts come back.
//
// Binds may receive messages as soon as they are up: handlers wait for
// ready, closed once the caller has wired what they use.
func startSMSCs(cfg Config, eng *ussd.Engine, reg prometheus.Registerer, log *slog.Logger,
	inbound func(op string) smpp.Handler, ready <-chan struct{}) (*smscs, error) {
	s := &smscs{binds: map[string]*smpp.Binds{}, rx: map[string]*smpp.Binds{}}
	ops, routes, def := cfg.SMPP.Operators, cfg.SMPP.Routes, cfg.SMPP.Default
	if len(ops) == 0 {
		s.sim = smsc.NewServer(smsc.Options{Receipts: true, ReceiptDelay: 2 * time.Second})
		ops = []SMSCConfig{{Name: "simulator", Addr: s.sim.Addr(), SystemID: "guichet", Source: "8080", USSD: &smpp.StandardUSSDOps}}
		routes, def = nil, "simulator"
		log.Warn("EMBEDDED DEFAULT: SMS go to an in-process SMSC simulator", "addr", s.sim.Addr())
	} else if routes == nil {
		routes = smpp.Cameroon
	}
	var err error
	if s.routes, err = smpp.NewRoutes(routes, def); err != nil {
		return nil, fmt.Errorf("smpp routes: %w", err)
	}
	for _, op := range ops {
		if op.Name == "" || op.Addr == "" {
			s.close(context.Background())
			return nil, fmt.Errorf("smpp: every operator needs a name and an addr")
		}
		olog := log.With("comp", "smpp", "operator", op.Name)
		handler := inbound(op.Name)
		var u *smpp.USSD
		if op.USSD != nil {
			if err := op.USSD.Check(); err != nil {
				s.close(context.Background())
				return nil, fmt.Errorf("operator %s: %w", op.Name, err)
			}
			u = &smpp.USSD{Operator: op.Name, Ops: *op.USSD, Engine: eng, Log: olog}
			handler = u.Handle(handler)
		}
		wired := handler
		handler = func(ctx context.Context, in smpp.Inbound) error {
			select {
			case <-ready:
			case <-ctx.Done(): // refused: the SMSC sends it again
				return ctx.Err()
			}
			return wired(ctx, in)
		}
		bc := smpp.BindConfig{Addr: op.Addr, SystemID: op.SystemID, Password: op.Password,
			SystemType: op.SystemType, Window: op.Window, EnquireLink: op.EnquireLink, Handler: handler, Logger: olog}
		all := []*smpp.Binds{}
		if op.Receivers > 0 {
			rc := bc
			rc.Mode = smpp.Receiver
			s.rx[op.Name] = smpp.StartBinds(op.Name, rc, op.Receivers, log.With("comp", "smpp"))
			bc.Mode = smpp.Transmitter
			all = append(all, s.rx[op.Name])
		}
		b := smpp.StartBinds(op.Name, bc, op.Binds, log.With("comp", "smpp"))
		if u != nil {
			u.Reply = b
		}
		s.binds[op.Name] = b
		all = append(all, b)
		// The SMSC's latency as the binds see it: rate(rtt) / rate(answered)
		// is the mean round trip of a submit_sm.
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "guichet_smpp_submit_rtt_seconds_total", Help: "Round trips of answered submit_sm, summed, by operator.",
			ConstLabels: prometheus.Labels{"operator": op.Name},
		}, func() float64 { return b.Stats().SubmitRTT.Seconds() }))
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "guichet_smpp_submits_answered_total", Help: "submit_sm answered ESME_ROK, by operator.",
			ConstLabels: prometheus.Labels{"operator": op.Name},
		}, func() float64 { return float64(b.Stats().SubmitOK) }))
		for _, b := range all {
			mode := b.Status()[0].Mode
			reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "guichet_smpp_binds_bound", Help: "Binds up, by operator and mode.",
				ConstLabels: prometheus.Labels{"operator": op.Name, "mode": mode},
			}, func() float64 {
				n := 0
				for _, st := range b.Status() {
					if st.State == smpp.StateBound.String() {
						n++
					}
				}
				return float64(n)
			}))
		}
	}
	return s, nil
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
