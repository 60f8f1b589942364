package cases

import (
	"time"

	"github.com/guichet/guichet/reference"
)

// Demo references: the cases that DemoCases holds, made from fixed serial
// numbers (1000001…1000005) so that a demo can always track them. Stores
// draw their own serials from elsewhere (Memory from 2000001), so these never
// clash with a case opened later.
var (
	DemoCourrierDelivered = reference.FromNumber(1000001, 7) // "10000012": courrier, delivered
	DemoCourrierForwarded = reference.FromNumber(1000002, 7) // "10000020": courrier, forwarded
	DemoCourrierReceived  = reference.FromNumber(1000003, 7) // "10000036": courrier, received
	DemoLicenceProcessing = reference.FromNumber(1000004, 7) // "10000048": business-licence, processing
	DemoLicenceReady      = reference.FromNumber(1000005, 7) // "10000057": business-licence, ready
)

// DemoOffices returns the offices of the demo, in Cameroon. Their names keep
// to GSM-7 (no ç ê â î ô û) and to 30 characters.
func DemoOffices() []Office {
	return []Office{
		{ID: "yaounde-1", Name: "Mairie de Yaounde 1er"},
		{ID: "douala-3", Name: "Mairie de Douala 3e"},
		{ID: "wouri", Name: "Prefecture du Wouri", Services: []string{"business-licence", "courrier"}},
		{ID: "bafoussam-ec", Name: "Centre d'etat civil Bafoussam", Services: []string{"birth-certificate"}},
	}
}

// DemoCases returns the cases of the demo, with their fixed references: two
// services, official mail between administrations ("courrier", G2G) and
// business licences ("business-licence", G2B), at several steps.
func DemoCases() []Case {
	at := func(day, hour int) time.Time { return time.Date(2026, time.November, day, hour, 0, 0, 0, Cameroon) }
	ev := func(status string, t time.Time, channel, who string) Event {
		return Event{Status: status, At: t, Channel: channel, Who: who}
	}
	courrier := func(ref, phone, subject string, events ...Event) Case {
		last := events[len(events)-1]
		return Case{
			Ref: ref, Service: "courrier", Status: last.Status, Phone: phone, Lang: "fr", Channel: "api",
			Data:   map[string]string{"from": "MINPOSTEL", "to": "MINFI", "subject": subject},
			Opened: events[0].At, Updated: last.At, History: events,
		}
	}
	licence := func(ref, phone, company string, events ...Event) Case {
		last := events[len(events)-1]
		return Case{
			Ref: ref, Service: "business-licence", Status: last.Status, Phone: phone, Lang: "en", Channel: "ussd",
			Data:   map[string]string{"company": company, "town": "Douala"},
			Opened: events[0].At, Updated: last.At, History: events,
		}
	}
	const (
		registry = "+237222230001" // a ministry's mail registry
		trader   = "+237677000001"
		baker    = "+237699000002"
	)
	return []Case{
		courrier(DemoCourrierDelivered, registry, "Budget 2027",
			ev("received", at(2, 9), "api", registry),
			ev("forwarded", at(3, 11), "api", "minfi-registry"),
			ev("delivered", at(5, 14), "api", "minfi-registry")),
		courrier(DemoCourrierForwarded, registry, "Note de service 14",
			ev("received", at(16, 10), "api", registry),
			ev("forwarded", at(18, 8), "api", "minfi-registry")),
		courrier(DemoCourrierReceived, registry, "Convocation reunion",
			ev("received", at(25, 15), "api", registry)),
		licence(DemoLicenceProcessing, trader, "Ets Nkongsamba Trading",
			ev("received", at(9, 10), "ussd", trader),
			ev("processing", at(12, 9), "api", "wouri-desk")),
		licence(DemoLicenceReady, baker, "Boulangerie du Port",
			ev("received", at(4, 8), "ussd", baker),
			ev("processing", at(6, 10), "api", "wouri-desk"),
			ev("ready", at(20, 16), "api", "wouri-desk")),
	}
}
