package metrics

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/guichet/guichet/hotline"
	"github.com/guichet/guichet/inbox"
	"github.com/guichet/guichet/outbox/delivery"
	"github.com/guichet/guichet/sms"
	"github.com/guichet/guichet/webhook"
)

// counters registers one counter per name, each read from stats when
// scraped.
func counters[S any](reg prometheus.Registerer, prefix, help string, stats func() S, fields map[string]func(S) uint64) {
	for name, get := range fields {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: prefix + name + "_total", Help: help + strings.ReplaceAll(name, "_", " ") + ".",
		}, func() float64 { return float64(get(stats())) }))
	}
}

// RegisterReceipts exposes what delivery receipts matched:
// guichet_sms_receipts_total, guichet_sms_unmatched_receipts_total.
func RegisterReceipts(reg prometheus.Registerer, stats func() delivery.ReceiptStats) {
	counters(reg, "guichet_sms_", "The outbox's ", stats, map[string]func(delivery.ReceiptStats) uint64{
		"receipts":           func(s delivery.ReceiptStats) uint64 { return s.Matched },
		"unmatched_receipts": func(s delivery.ReceiptStats) uint64 { return s.Unmatched },
	})
}

// RegisterInbox exposes what the inbox did with citizens' SMS:
// guichet_sms_inbound_total{keyword} and
// guichet_sms_inbound_{duplicate,flooded,unreadable}_total.
func RegisterInbox(reg prometheus.Registerer, counts func() inbox.Counts) {
	for k := sms.Unknown; k <= sms.Menu; k++ {
		name := k.String()
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "guichet_sms_inbound_total", Help: "Inbound SMS answered, by the keyword they carried (Unknown: none).",
			ConstLabels: prometheus.Labels{"keyword": strings.ToLower(name)},
		}, func() float64 { return float64(counts().Keywords[name]) }))
	}
	counters(reg, "guichet_sms_inbound_", "Inbound SMS not answered: ", counts, map[string]func(inbox.Counts) uint64{
		"duplicate": func(c inbox.Counts) uint64 { return c.Duplicates }, "flooded": func(c inbox.Counts) uint64 { return c.Flooded },
		"unreadable": func(c inbox.Counts) uint64 { return c.Unreadable },
	})
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "guichet_sms_dialogue_inputs_total", Help: "Inbound SMS answered as the next input of an SMS dialogue.",
	}, func() float64 { return float64(counts().Inputs) }))
}

// RegisterJournal exposes guichet_journal_dropped_total: the ended USSD
// sessions the hotline could not record.
func RegisterJournal(reg prometheus.Registerer, dropped func() uint64) {
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "guichet_journal_dropped_total", Help: "Ended USSD sessions not recorded for the hotline (the store fell behind).",
	}, func() float64 { return float64(dropped()) }))
}

// RegisterUSSDDropped exposes guichet_smpp_ussd_dropped_total{operator}:
// the USSD PDUs an operator's SMSC sent that could not be tied to a
// dialogue or read, the first sign of a misconfigured session key.
func RegisterUSSDDropped(reg prometheus.Registerer, operator string, dropped func() uint64) {
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "guichet_smpp_ussd_dropped_total", Help: "USSD PDUs acknowledged without an answer: not tied to a dialogue, or unreadable.",
		ConstLabels: prometheus.Labels{"operator": operator},
	}, func() float64 { return float64(dropped()) }))
}

// RegisterCallbacks exposes the delivery callbacks' sender:
// guichet_callbacks_{sent,retried,given_up}_total (a receiver answered
// 2xx; an attempt failed and waits for its retry; dropped after 24 hours
// or for a key without a URL any more) and the gauge
// guichet_callbacks_queued (the queue's depth, the fleet's, when the
// sender last looked).
func RegisterCallbacks(reg prometheus.Registerer, stats func() webhook.Stats) {
	counters(reg, "guichet_callbacks_", "Delivery callbacks ", stats, map[string]func(webhook.Stats) uint64{
		"sent": func(s webhook.Stats) uint64 { return s.Delivered }, "retried": func(s webhook.Stats) uint64 { return s.Retried },
		"given_up": func(s webhook.Stats) uint64 { return s.GivenUp },
	})
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "guichet_callbacks_queued", Help: "Delivery callbacks in the queue, due or waiting for a retry (the fleet's).",
	}, func() float64 { return float64(stats().Queued) }))
}

// RegisterSignIns exposes the console's refused sign-ins:
// guichet_signin_failures_total (a wrong name or password) and
// guichet_signin_delayed_total (attempts told to wait after too many
// failures: the console delays, it never locks an account).
func RegisterSignIns(reg prometheus.Registerer, stats func() hotline.SignInStats) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "guichet_signin_failures_total", Help: "Console sign-ins refused for a wrong name or password.",
		}, func() float64 { return float64(stats().Failed) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "guichet_signin_delayed_total", Help: "Console sign-ins told to wait (no password checked) after too many failures on the name, the address, or both.",
		}, func() float64 { return float64(stats().Delayed) }),
	)
}
