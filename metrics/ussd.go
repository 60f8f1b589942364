package metrics

import "github.com/prometheus/client_golang/prometheus"

// Hops is what the engine tells of its load (*ussd.Engine).
type Hops interface {
	InFlight() int
	Busy() map[string]uint64
}

// busy is guichet_ussd_hops_busy_total{operator}, read when scraped.
type busy struct {
	desc      *prometheus.Desc
	hops      Hops
	operators []string // there at 0 before their first
}

func (b busy) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }

func (b busy) Collect(ch chan<- prometheus.Metric) {
	counts := b.hops.Busy()
	for _, op := range b.operators {
		if _, ok := counts[op]; !ok {
			counts[op] = 0
		}
	}
	for op, n := range counts {
		ch <- prometheus.MustNewConstMetric(b.desc, prometheus.CounterValue, float64(n), op)
	}
}

// RegisterHops exposes the engine's load: guichet_ussd_hops_in_flight
// (hops being answered now) and guichet_ussd_hops_busy_total{operator}
// (hops turned away with the busy screen, over the engine's in-flight
// limit; each of operators at 0 before its first, any other with it).
func RegisterHops(reg prometheus.Registerer, hops Hops, operators ...string) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "guichet_ussd_hops_in_flight", Help: "USSD hops being answered now by this gateway's engine.",
		}, func() float64 { return float64(hops.InFlight()) }),
		busy{hops: hops, operators: operators, desc: prometheus.NewDesc("guichet_ussd_hops_busy_total",
			"USSD hops turned away with the busy screen (the engine's in-flight limit reached), by operator.", []string{"operator"}, nil)},
	)
}

// RegisterDialogueHops exposes the SMS dialogue engine's load, as
// RegisterHops does USSD's: guichet_sms_dialogue_in_flight and
// guichet_sms_dialogue_busy_total{operator} (SMS answered with the busy
// screen, by the SMPP operator they came from).
func RegisterDialogueHops(reg prometheus.Registerer, hops Hops, operators ...string) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "guichet_sms_dialogue_in_flight", Help: "SMS dialogue inputs being answered now by this gateway's engine.",
		}, func() float64 { return float64(hops.InFlight()) }),
		busy{hops: hops, operators: operators, desc: prometheus.NewDesc("guichet_sms_dialogue_busy_total",
			"SMS dialogue inputs answered with the busy screen (the engine's in-flight limit reached), by SMPP operator.", []string{"operator"}, nil)},
	)
}
