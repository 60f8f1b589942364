package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/guichet/guichet/outbox/delivery"
	"github.com/guichet/guichet/smpp"
)

// SMPP is the metrics of the operators' binds, registered once for all:
// guichet_smpp_submit_duration_seconds{operator} (the SMSC's answer to
// each submit_sm, any status) and
// guichet_smpp_submit_failures_total{operator,command_status} (answers
// other than ESME_ROK, by the status's SMPP name; "unknown" for one SMPP
// 3.4 does not name, so that the labels stay few). Binds adds each
// operator's gauges.
type SMPP struct {
	reg      prometheus.Registerer
	duration *prometheus.HistogramVec
	failures *prometheus.CounterVec
}

// submitBuckets span a local SMSC's milliseconds to an overloaded one's
// seconds (the response timeout is 10 s by default).
var submitBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// NewSMPP registers the binds' histogram and failures on reg.
func NewSMPP(reg prometheus.Registerer) *SMPP {
	s := &SMPP{
		reg: reg,
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "guichet_smpp_submit_duration_seconds",
			Help:    "Time from writing a submit_sm to its answer (any command_status), by operator.",
			Buckets: submitBuckets,
		}, []string{"operator"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "guichet_smpp_submit_failures_total",
			Help: "submit_sm answered with an error command_status (or generic_nack), by operator and status name.",
		}, []string{"operator", "command_status"}),
	}
	reg.MustRegister(s.duration, s.failures)
	return s
}

// namedStatuses are the command_status values smpp names, found once.
var namedStatuses = func() []uint32 {
	var out []uint32
	for st := uint32(1); st < 0x500; st++ {
		if smpp.StatusName(st) != "unknown" {
			out = append(out, st)
		}
	}
	return out
}()

// observer is one operator's smpp.Observer: every child is made when the
// operator's binds are, so that an observation neither allocates nor
// looks a label up.
type observer struct {
	duration prometheus.Observer
	failures map[uint32]prometheus.Counter // read only once made
	unknown  prometheus.Counter
}

// Observer returns what operator's binds tell of their submits
// (smpp.BindConfig.Observer).
func (s *SMPP) Observer(operator string) smpp.Observer {
	o := &observer{
		duration: s.duration.WithLabelValues(operator),
		failures: make(map[uint32]prometheus.Counter, len(namedStatuses)),
		unknown:  s.failures.WithLabelValues(operator, "unknown"),
	}
	for _, st := range namedStatuses {
		o.failures[st] = s.failures.WithLabelValues(operator, smpp.StatusName(st))
	}
	return o
}

func (o *observer) Submitted(rtt time.Duration, status uint32) {
	o.duration.Observe(rtt.Seconds())
	if status == smpp.StatusOK {
		return
	}
	if c, ok := o.failures[status]; ok {
		c.Inc()
		return
	}
	o.unknown.Inc()
}

// Binds exposes an operator's binds, read when scraped: how many of each
// mode are up (guichet_smpp_binds_bound{operator,mode}), and of those that
// submit, the submits waiting for their answer
// (guichet_smpp_window_in_use{operator}) out of how many may
// (guichet_smpp_window_size{operator}), and those never answered in time
// (guichet_smpp_submit_timeouts_total{operator}). submits are the binds
// that submit; all holds them and the receivers.
func (s *SMPP) Binds(operator string, submits *smpp.Binds, all ...*smpp.Binds) {
	op := prometheus.Labels{"operator": operator}
	s.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "guichet_smpp_window_in_use", Help: "submit_sm written and not answered yet, over the operator's binds held here.",
			ConstLabels: op,
		}, func() float64 { return float64(submits.Stats().InFlight) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "guichet_smpp_window_size", Help: "submit_sm the operator's binds held here may have waiting for their answer at once.",
			ConstLabels: op,
		}, func() float64 { return float64(submits.Window()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "guichet_smpp_submit_timeouts_total", Help: "submit_sm without an answer within the response timeout: maybe sent, retried.",
			ConstLabels: op,
		}, func() float64 { return float64(submits.Stats().SubmitTimeouts) }),
	)
	for _, b := range all {
		s.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "guichet_smpp_binds_bound", Help: "Binds up, by operator and mode.",
			ConstLabels: prometheus.Labels{"operator": operator, "mode": b.Status()[0].Mode},
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

// outcomes is guichet_sms_outcomes_total{operator,result}: what became
// of each attempt at a message (the Dispatcher's results) and of each
// sent one (its final receipt), read from both when scraped.
type outcomes struct {
	desc     *prometheus.Desc
	attempts func() []delivery.Outcomes
	receipts func() []delivery.ReceiptResults
}

// RegisterOutcomes exposes guichet_sms_outcomes_total{operator,result}:
// result is one of delivery.Results (sent, deferred, throttled,
// maybe_sent, stale, failed, expired) or a receipt's (delivered,
// undeliverable; a receipt's EXPIRED counts as expired); operator is
// "none" for a number without a route.
func RegisterOutcomes(reg prometheus.Registerer, attempts func() []delivery.Outcomes, receipts func() []delivery.ReceiptResults) {
	reg.MustRegister(&outcomes{
		desc: prometheus.NewDesc("guichet_sms_outcomes_total",
			"SMS outcomes: each attempt's result, and each sent message's final receipt, by operator.", []string{"operator", "result"}, nil),
		attempts: attempts, receipts: receipts,
	})
}

func (o *outcomes) Describe(ch chan<- *prometheus.Desc) { ch <- o.desc }

func (o *outcomes) Collect(ch chan<- prometheus.Metric) {
	sums := map[[2]string]uint64{}
	for _, a := range o.attempts() {
		op := a.Operator
		if op == "" {
			op = "none"
		}
		for i, r := range delivery.Results {
			sums[[2]string{op, r}] += a.Counts[i]
		}
	}
	if o.receipts != nil {
		for _, r := range o.receipts() {
			for result, n := range r.Counts {
				sums[[2]string{r.Bind, result}] += n
			}
		}
	}
	for k, n := range sums {
		ch <- prometheus.MustNewConstMetric(o.desc, prometheus.CounterValue, float64(n), k[0], k[1])
	}
}
