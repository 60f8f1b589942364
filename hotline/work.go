package hotline

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/chart"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/staff"
	"github.com/guichet/guichet/ussd"
)

// callbacksPage is the queue, oldest first, with who took each.
func (c *Console) callbacksPage(w http.ResponseWriter, r *http.Request) {
	u, _ := userOf(r)
	open, err := c.Records.Callbacks(r.Context(), true, 200)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	closed, err := c.Records.Callbacks(r.Context(), false, 20)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if err := c.audit(r.Context(), u, "view.callbacks", "", fmt.Sprintf("%d open, %d closed", len(open), len(closed)), phonesOf(open, closed)...); err != nil {
		c.fail(w, r, err) // the queue shows phones and reasons: not without a trace
		return
	}
	c.render(w, r, http.StatusOK, "callbacks", view{Data: map[string]any{"Open": open, "Closed": closed}, Flash: flash(r, u.Lang)})
}

func (c *Console) takeCallback(w http.ResponseWriter, r *http.Request) {
	c.callback(w, r, "take")
}

func (c *Console) closeCallback(w http.ResponseWriter, r *http.Request) {
	c.callback(w, r, "done")
}

func (c *Console) callback(w http.ResponseWriter, r *http.Request, what string) {
	u, _ := userOf(r)
	ticket := chi.URLParam(r, "ticket")
	do := c.Records.TakeCallback
	if what == "done" {
		do = c.Records.CloseCallback
	}
	cb, err := do(r.Context(), ticket, u.Name, c.now())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r.Context(), u, "callback."+what, cb.Phone, cb.Ticket)
	if what == "take" {
		c.redirect(w, r, "/callers/"+url.PathEscape(cb.Phone), "taken")
		return
	}
	c.redirect(w, r, "/callbacks", "closed")
}

// screen is an assisted session's or the phone simulator's state.
type screen struct {
	Phone    string
	Dialogue string // the dialogue's id, carried by the form
	Text     string
	End      bool
	Hop      int
	Error    string
}

var validDialogue = regexp.MustCompile(`^[a-z0-9-]{1,40}$`)

// newDialogue names a dialogue the console starts.
func newDialogue() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "c-" + hex.EncodeToString(b)
}

// step runs one hop for the operator. The dialogue lives in the
// operator's own slot (slot:user), so that it never resumes or cuts the
// caller's live USSD dialogue, nor another operator's; the hop number is
// the hop key, so that a form posted twice (a double click, a reload)
// gets the same screen and runs nothing twice.
func (c *Console) step(r *http.Request, u staff.User, p, slot, dialogue string, hop int, kind ussd.Kind, input string) (ussd.Reply, error) {
	req := ussd.Request{Kind: kind, SessionID: dialogue, Phone: p, ServiceCode: c.Catalogue.Code, Slot: userSlot(slot, u.Name), Agent: u.Name,
		Operator: "hotline", Dialect: "hotline", Channel: "hotline", Input: input, HopKey: strconv.Itoa(hop), Language: u.Lang}
	if slot == "simulator" {
		req.Operator, req.Channel = "simulator", "ussd"
	}
	if err := req.Normalize(c.Region); err != nil {
		return ussd.Reply{}, err
	}
	return c.Engine.Step(r.Context(), req)
}

// userSlot is the slot of user's dialogues on a page of the console
// ("hotline", "simulator").
func userSlot(slot, user string) string { return slot + ":" + user }

// CachedKeys are the keys under which the session store may hold
// something of phone: its cached language, its own dialogue, and the
// dialogue each of users walked for it (an assisted session, in that
// account's slot), what an erasure deletes. Accounts are disabled, never
// deleted nor renamed, so all of them (Accounts.Users) name every slot
// there can be: the keys are known, without scanning the store. more are
// the other channels' keys of phone.
func CachedKeys(phone string, users []staff.User, more ...string) []string {
	keys := []string{ussd.LanguageKey(phone), ussd.SessionKey(phone)}
	for _, u := range users {
		keys = append(keys, ussd.SlotKey(userSlot("hotline", u.Name), phone))
	}
	return append(keys, more...)
}

// assistPage offers to start walking the menus for a caller: starting is a
// form, never a link, since it opens a dialogue.
func (c *Console) assistPage(w http.ResponseWriter, r *http.Request) {
	u, _ := userOf(r)
	p, err := c.phoneParam(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "assist", view{Data: screen{Phone: p, Text: tr(u.Lang, "assist.ready"), End: true, Hop: 1}})
}

func (c *Console) assistStep(w http.ResponseWriter, r *http.Request) {
	u, _ := userOf(r)
	p, err := c.phoneParam(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.hop(w, r, u, p, "hotline", "assist")
}

// hop reads a screen's form (dial, input, hang up) and shows the next one.
func (c *Console) hop(w http.ResponseWriter, r *http.Request, u staff.User, p, slot, page string) {
	f := r.PostForm
	hop, err := strconv.Atoi(f.Get("hop"))
	if err != nil || hop < 1 || hop > 1000 {
		c.fail(w, r, guichet.Errorf(guichet.EINVALID, "bad hop number"))
		return
	}
	dialogue := f.Get("dialogue")
	kind, input := ussd.Continue, strings.TrimSpace(f.Get("input"))
	switch {
	case f.Has("dial"):
		kind, input, dialogue, hop = ussd.Begin, "", newDialogue(), 1
		// Who walked the menus for whom is in the audit log before the
		// first screen; a start that cannot be audited does not happen.
		if err := c.audit(r.Context(), u, slot+".start", p, dialogue); err != nil {
			c.fail(w, r, err)
			return
		}
	case f.Has("hangup"):
		kind = ussd.Abort
	}
	if !validDialogue.MatchString(dialogue) {
		c.fail(w, r, guichet.Errorf(guichet.EINVALID, "bad dialogue"))
		return
	}
	rep, err := c.step(r, u, p, slot, dialogue, hop, kind, input)
	if err != nil {
		if guichet.ErrorCode(err) == guichet.EINVALID {
			c.render(w, r, http.StatusBadRequest, page, view{Data: screen{Phone: p, Dialogue: dialogue, Text: f.Get("text"), Hop: hop,
				Error: guichet.ErrorMessage(err)}})
			return
		}
		c.fail(w, r, err)
		return
	}
	if kind == ussd.Abort {
		rep = ussd.Reply{Text: tr(u.Lang, "assist.hungup"), End: true}
	}
	if slot == "hotline" && kind == ussd.Continue {
		c.audit(r.Context(), u, "assist.step", p, input)
	}
	c.render(w, r, http.StatusOK, page, view{Data: screen{Phone: p, Dialogue: dialogue, Text: rep.Text, End: rep.End, Hop: hop + 1}})
}

// SimulatorPhone is the number the phone simulator dials from: a fixed
// line, which no SMS route takes, so that what designers open there never
// texts a real person (the outbox marks those SMS failed: no route).
const SimulatorPhone = "+237222123456"

func (c *Console) phonePage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "phone", view{Data: screen{Phone: SimulatorPhone, Hop: 1, End: true}})
}

func (c *Console) phoneStep(w http.ResponseWriter, r *http.Request) {
	u, _ := userOf(r)
	c.hop(w, r, u, SimulatorPhone, "simulator", "phone")
}

func (c *Console) auditPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	f := staff.AuditFilter{User: strings.TrimSpace(q.Get("user")), Subject: strings.TrimSpace(q.Get("subject")), Before: before, Limit: 100}
	if f.Subject != "" {
		if p, err := c.normalizePhone(f.Subject); err == nil {
			f.Subject = p
		}
	}
	es, err := c.Trail.AuditLog(r.Context(), f)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	// Who read the log, with what filter, and the numbers it showed as
	// subjects (those an entry showed besides are counted, not listed):
	// the log shows notes, SMS texts and what was typed for callers.
	u, _ := userOf(r)
	var shown []string
	for _, e := range es {
		if strings.HasPrefix(e.Subject, "+") && e.Subject != f.Subject && !slices.Contains(shown, e.Subject) {
			shown = append(shown, e.Subject)
		}
	}
	if err := c.audit(r.Context(), u, "view.audit", f.Subject, auditQuery(f), shown...); err != nil {
		c.fail(w, r, err)
		return
	}
	next := ""
	if len(es) == f.Limit {
		next = strconv.FormatInt(es[len(es)-1].ID, 10)
	}
	c.render(w, r, http.StatusOK, "audit", view{Data: map[string]any{"Entries": es, "Next": next}, Form: q})
}

// auditQuery says the filter of a view of the audit log, its number as
// stored (so that an erasure finds it there too).
func auditQuery(f staff.AuditFilter) string {
	var q []string
	if f.User != "" {
		q = append(q, "user="+f.User)
	}
	if f.Subject != "" {
		q = append(q, "subject="+f.Subject)
	}
	if f.Before > 0 {
		q = append(q, "before="+strconv.FormatInt(f.Before, 10))
	}
	if len(q) == 0 {
		return "(all)"
	}
	return strings.Join(q, " ")
}

// dashboard draws the last 24 hours: sessions per hour by service, where
// callers abandon each service, SMS delivered per operator (7 days), and
// the callback queue.
func (c *Console) dashboard(w http.ResponseWriter, r *http.Request) {
	u, _ := userOf(r)
	ctx := r.Context()
	now := c.now()
	to := now.Truncate(time.Hour).Add(time.Hour)
	from := to.Add(-24 * time.Hour)
	hours, ends, err := c.Trail.SessionCounts(ctx, from, to)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	deliveries, err := c.Outbox.DeliveryCounts(ctx, now.Add(-7*24*time.Hour), now)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	open, err := c.Records.Callbacks(ctx, true, 500)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	lang := u.Lang
	var charts []any
	charts = append(charts, c.perHour(lang, from, hours))
	charts = append(charts, c.funnels(lang, ends)...)
	charts = append(charts, delivery(lang, deliveries), queue(lang, now, open))
	c.render(w, r, http.StatusOK, "dashboard", view{Data: charts})
}

func (c *Console) perHour(lang string, from time.Time, hours []staff.HourCount) any {
	labels := make([]string, 24)
	for i := range labels {
		labels[i] = from.Add(time.Duration(i) * time.Hour).In(c.location()).Format("15h")
	}
	bySvc := map[string][]float64{}
	for _, h := range hours {
		i := int(h.Hour.Sub(from) / time.Hour)
		if i < 0 || i >= 24 {
			continue
		}
		if bySvc[h.Service] == nil {
			bySvc[h.Service] = make([]float64, 24)
		}
		bySvc[h.Service][i] += float64(h.N)
	}
	var series []chart.Series
	for _, id := range slices.Sorted(maps.Keys(bySvc)) {
		series = append(series, chart.Series{Name: c.serviceTitle(id, lang), Values: bySvc[id]})
	}
	return chart.StackedBars(tr(lang, "dash.perhour"), labels, series, chartOpts(lang, ""))
}

func (c *Console) serviceTitle(id, lang string) string {
	if id == "home" {
		return tr(lang, "dash.home")
	}
	return c.Catalogue.ServiceTitle(id, lang)
}

// funnels: for each service, how many sessions reached each of its
// screens (in the order of its file) and how many completed. A session
// that ended at a screen reached every screen before it in that order: an
// approximation for menus that branch, exact for a straight form.
func (c *Console) funnels(lang string, ends []staff.EndCount) []any {
	type agg struct {
		at        map[string]int // sessions that stopped at a node, not completed
		completed int
		total     int
	}
	by := map[string]*agg{}
	for _, e := range ends {
		a := by[e.Service]
		if a == nil {
			a = &agg{at: map[string]int{}}
			by[e.Service] = a
		}
		a.total += e.N
		if e.Result == ussd.Completed {
			a.completed += e.N
		} else {
			a.at[e.Node] += e.N
		}
	}
	var out []any
	for _, id := range slices.Sorted(maps.Keys(by)) {
		svc := c.Catalogue.Services[id]
		if svc == nil {
			continue
		}
		a := by[id]
		steps := []chart.Step{{Label: tr(lang, "dash.entered"), N: a.total}}
		left := a.total
		for _, n := range svc.Order {
			// Only screens that wait for the caller are rows; a session
			// cut during an action still counts as lost there.
			if node := svc.Nodes[n]; node != nil && node.Kind != "action" && node.Kind != "end" &&
				(a.at[n] > 0 || left < a.total) { // before the first screen anyone left: as entered
				steps = append(steps, chart.Step{Label: n, N: left})
			}
			left -= a.at[n]
		}
		steps = append(steps, chart.Step{Label: tr(lang, "dash.completed"), N: a.completed})
		out = append(out, chart.Funnel(tr(lang, "dash.funnel", c.serviceTitle(id, lang)), steps, chartOpts(lang, "")))
	}
	return out
}

func delivery(lang string, counts []outbox.DeliveryCount) any {
	type agg struct{ delivered, total int }
	by := map[string]*agg{}
	for _, d := range counts {
		if d.Status == outbox.MessagePending || d.Status == outbox.MessageSending || d.Status == outbox.MessageLogged {
			continue
		}
		op := cmp.Or(d.Bind, tr(lang, "dash.nobind"))
		a := by[op]
		if a == nil {
			a = &agg{}
			by[op] = a
		}
		a.total += d.N
		if d.Status == outbox.MessageDelivered {
			a.delivered += d.N
		}
	}
	var bars []chart.Bar
	for _, op := range slices.Sorted(maps.Keys(by)) {
		a := by[op]
		bars = append(bars, chart.Bar{Label: op, Value: float64(a.delivered), Max: float64(a.total),
			Note: fmt.Sprintf("%d/%d", a.delivered, a.total)})
	}
	return chart.HBars(tr(lang, "dash.delivery"), bars, chartOpts(lang, "%"))
}

func queue(lang string, now time.Time, open []cases.Callback) any {
	var longest, sum time.Duration
	for _, cb := range open {
		d := now.Sub(cb.Requested)
		sum += d
		longest = max(longest, d)
	}
	avg := time.Duration(0)
	if len(open) > 0 {
		avg = sum / time.Duration(len(open))
	}
	mins := func(d time.Duration) float64 { return d.Minutes() }
	top := max(mins(longest), 60)
	return chart.HBars(tr(lang, "dash.queue", len(open)), []chart.Bar{
		{Label: tr(lang, "dash.waitavg"), Value: mins(avg), Max: top, Note: fmt.Sprintf("%.0f min", mins(avg))},
		{Label: tr(lang, "dash.waitmax"), Value: mins(longest), Max: top, Note: fmt.Sprintf("%.0f min", mins(longest))},
	}, chartOpts(lang, " min"))
}

// chartOpts sizes the charts for the dashboard's columns (about 480 px on
// a small laptop), so that their text stays readable.
func chartOpts(lang, unit string) chart.Options {
	return chart.Options{Width: 480, Unit: unit, NoData: tr(lang, "dash.nodata")}
}
