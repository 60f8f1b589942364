package hotline

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/reference"
	"github.com/guichet/guichet/sms"
	"github.com/guichet/guichet/staff"
)

func (c *Console) location() *time.Location { return cases.Cameroon }

// home is the search box and the head of the callback queue.
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	u, _ := userOf(r)
	open, err := c.Records.Callbacks(r.Context(), true, 5)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if len(open) > 0 {
		if err := c.audit(r.Context(), u, "view.callbacks", "", fmt.Sprintf("%d open (home)", len(open)), phonesOf(open)...); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	c.render(w, r, http.StatusOK, "home", view{Data: open, Flash: flash(r, u.Lang)})
}

// search takes a phone number in any usual form or a case reference.
func (c *Console) search(w http.ResponseWriter, r *http.Request) {
	u, _ := userOf(r)
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	digits := strings.Map(func(r rune) rune {
		if r == ' ' || r == '.' || r == '-' {
			return -1
		}
		return r
	}, q)
	bad := func(msg string) {
		c.render(w, r, http.StatusBadRequest, "home", view{Form: url.Values{"q": {q}}, Errors: map[string]string{"q": msg}})
	}
	switch {
	case q == "":
		bad(tr(u.Lang, "search.empty"))
	case len(digits) == 8 && onlyDigits(digits):
		// Cameroon's numbers have 9 digits; references have 8.
		if !reference.Valid(digits) {
			bad(tr(u.Lang, "search.badref", digits))
			return
		}
		if _, err := c.Cases.Case(r.Context(), digits, ""); err != nil {
			if guichet.ErrorCode(err) == guichet.ENOTFOUND {
				c.render(w, r, http.StatusNotFound, "home", view{Form: url.Values{"q": {q}}, Errors: map[string]string{"q": tr(u.Lang, "search.noref", digits)}})
				return
			}
			c.fail(w, r, err)
			return
		}
		c.redirect(w, r, "/cases/"+digits, "")
	default:
		p, err := c.normalizePhone(q)
		if err != nil {
			bad(tr(u.Lang, "search.badphone", q))
			return
		}
		c.redirect(w, r, "/callers/"+url.PathEscape(p), "")
	}
}

func onlyDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// callerData is everything about a caller, for their page.
type callerData struct {
	Phone     string
	Cases     []cases.Case
	Bookings  []bookingView
	Messages  []outbox.Message
	Sessions  []staff.SessionRecord
	Callbacks []cases.Callback
	Templates []smsTemplate
	// Lang is the caller's language, as their latest SMS or case says:
	// the SMS templates are written in it.
	Lang string
	// Title and Label name services and statuses for people, Screen a
	// session's last screen by its words.
	Title  func(service string) string
	Label  func(service, status string) string
	Screen func(service, node string) string
}

// screenWords is a screen's text on one line, its variables as "…" (the
// session's values are not kept), cut to 80 characters; or the node's name
// when the catalogue no longer has it.
func screenWords(text, node string) string {
	words := strings.Join(strings.Fields(placeholder.ReplaceAllString(text, "…")), " ")
	if words == "" {
		return node
	}
	if r := []rune(words); len(r) > 80 {
		return string(r[:79]) + "…"
	}
	return words
}

var placeholder = regexp.MustCompile(`\{\{[^{}]*\}\}`)

type bookingView struct {
	cases.Booking
	Office string
	Slots  []menus.Choice // where it can move
}

func (c *Console) callerPage(w http.ResponseWriter, r *http.Request) {
	c.renderCaller(w, r, http.StatusOK, nil, nil)
}

func (c *Console) renderCaller(w http.ResponseWriter, r *http.Request, status int, errs map[string]string, form url.Values) {
	u, _ := userOf(r)
	p, err := c.phoneParam(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d, err := c.caller(r.Context(), p, u.Lang)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	empty := len(d.Cases)+len(d.Bookings)+len(d.Messages)+len(d.Sessions)+len(d.Callbacks) == 0
	if status == http.StatusOK && empty {
		status = http.StatusNotFound // known to nobody: the page says so, and offers to help anyway
	}
	if err := c.audit(r.Context(), u, "view.caller", p, ""); err != nil {
		c.fail(w, r, err) // a view that cannot be audited is not shown
		return
	}
	if form == nil && len(d.Templates) > 0 {
		form = url.Values{"text": {d.Templates[0].Text}} // the first template, ready to send or edit
	}
	c.render(w, r, status, "caller", view{Data: d, Errors: errs, Form: form, Flash: flash(r, u.Lang), Title: p})
}

func (c *Console) caller(ctx context.Context, p, lang string) (callerData, error) {
	d := callerData{Phone: p,
		Title:  func(s string) string { return c.serviceTitle(s, lang) },
		Label:  func(s, st string) string { return c.Catalogue.StatusLabel(s, st, lang) },
		Screen: func(s, node string) string { return screenWords(c.Catalogue.ScreenText(s, node, lang), node) }}
	var err error
	if d.Cases, err = c.Cases.Cases(ctx, cases.CaseFilter{Phone: p}, ""); err != nil {
		return d, err
	}
	bs, err := c.Records.Bookings(ctx, p, c.now().Add(-24*time.Hour))
	if err != nil {
		return d, err
	}
	for _, b := range bs {
		bv := bookingView{Booking: b, Office: b.Office}
		res, err := c.Cases.Do(ctx, menus.Call{Op: "slots.list", Service: b.Service, Phone: p, Lang: lang, Channel: "hotline",
			Args: map[string]string{"office": b.Office}})
		if err == nil {
			bv.Slots = res.Options
		}
		d.Bookings = append(d.Bookings, bv)
	}
	if d.Messages, err = c.Outbox.Messages(ctx, p, 20); err != nil {
		return d, err
	}
	for i := range d.Messages {
		d.Messages[i].Body = outbox.Hidden(d.Messages[i]) // a web sign-in code is the citizen's alone
	}
	if d.Sessions, err = c.Trail.RecentSessions(ctx, p, 10); err != nil {
		return d, err
	}
	if d.Callbacks, err = c.Records.CallbacksOf(ctx, p); err != nil {
		return d, err
	}
	d.Lang = "fr"
	if len(d.Messages) > 0 && d.Messages[0].Lang != "" {
		d.Lang = d.Messages[0].Lang
	} else if len(d.Cases) > 0 && d.Cases[len(d.Cases)-1].Lang != "" {
		d.Lang = d.Cases[len(d.Cases)-1].Lang
	}
	d.Templates = templates(lang, d.Lang)
	return d, nil
}

// caseData is a case's page.
type caseData struct {
	Case  cases.Case
	Title string
	Label func(status string) string
	Moves []moveView
}

type moveView struct{ Status, Label string }

func (c *Console) casePage(w http.ResponseWriter, r *http.Request) {
	c.renderCase(w, r, http.StatusOK, nil, nil)
}

func (c *Console) renderCase(w http.ResponseWriter, r *http.Request, status int, errs map[string]string, form url.Values) {
	u, _ := userOf(r)
	ref := chi.URLParam(r, "ref")
	k, err := c.Cases.Case(r.Context(), ref, "")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	// Under the reference and the phone: a search by either finds it.
	if err := c.audit(r.Context(), u, "view.case", k.Ref, "", k.Phone); err != nil {
		c.fail(w, r, err)
		return
	}
	d := caseData{Case: k, Title: c.Catalogue.ServiceTitle(k.Service, u.Lang),
		Label: func(s string) string { return c.Catalogue.StatusLabel(k.Service, s, u.Lang) }}
	if svc := c.Catalogue.Services[k.Service]; svc != nil {
		if st := svc.Statuses[k.Status]; st != nil {
			for _, n := range st.Next {
				d.Moves = append(d.Moves, moveView{n, c.Catalogue.StatusLabel(k.Service, n, u.Lang)})
			}
		}
	}
	c.render(w, r, status, "case", view{Data: d, Errors: errs, Form: form, Flash: flash(r, u.Lang), Title: tr(u.Lang, "title.case") + " " + k.Ref})
}

func (c *Console) moveCase(w http.ResponseWriter, r *http.Request) {
	u, _ := userOf(r)
	ref, f := chi.URLParam(r, "ref"), r.PostForm
	note := strings.TrimSpace(f.Get("note"))
	if utf8.RuneCountInString(note) > maxFieldLength {
		c.renderCase(w, r, http.StatusBadRequest, map[string]string{"note": tr(u.Lang, "form.toolong", maxFieldLength)}, f)
		return
	}
	if f.Get("status") == "" {
		c.renderCase(w, r, http.StatusBadRequest, map[string]string{"status": tr(u.Lang, "case.pickstatus")}, f)
		return
	}
	k, err := c.Cases.MoveCase(r.Context(), ref, cases.Move{Status: f.Get("status"), Note: note, Who: u.Name, Channel: "hotline"}, "")
	if err != nil {
		// Said in the operator's words: the life cycle refuses the move, or
		// the case moved meanwhile.
		if code := guichet.ErrorCode(err); code == guichet.ECONFLICT || code == guichet.EINVALID {
			msg := tr(u.Lang, "case.badmove", f.Get("status"))
			if k, kerr := c.Cases.Case(r.Context(), ref, ""); kerr == nil && c.Catalogue.HasStatus(k.Service, f.Get("status")) {
				msg = tr(u.Lang, "case.badmove", c.Catalogue.StatusLabel(k.Service, f.Get("status"), u.Lang))
			}
			c.renderCase(w, r, http.StatusConflict, map[string]string{"status": msg}, f)
			return
		}
		c.fail(w, r, err)
		return
	}
	c.audit(r.Context(), u, "case.move", k.Ref, k.Status+" "+note)
	c.redirect(w, r, "/cases/"+k.Ref, "moved")
}

func (c *Console) noteCase(w http.ResponseWriter, r *http.Request) {
	u, _ := userOf(r)
	ref, f := chi.URLParam(r, "ref"), r.PostForm
	note := strings.TrimSpace(f.Get("text"))
	switch {
	case note == "":
		c.renderCase(w, r, http.StatusBadRequest, map[string]string{"text": tr(u.Lang, "form.required")}, f)
		return
	case utf8.RuneCountInString(note) > maxFieldLength:
		c.renderCase(w, r, http.StatusBadRequest, map[string]string{"text": tr(u.Lang, "form.toolong", maxFieldLength)}, f)
		return
	}
	k, err := c.Cases.NoteCase(r.Context(), ref, note, u.Name, "hotline")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r.Context(), u, "case.note", k.Ref, note)
	c.redirect(w, r, "/cases/"+k.Ref, "noted")
}

// smsTemplate is a text an operator starts an SMS from.
type smsTemplate struct{ ID, Label, Text string }

// templates lists the SMS templates, named in the operator's language and
// written in the caller's.
func templates(ui, caller string) []smsTemplate {
	var ts []smsTemplate
	for _, id := range []string{"missed", "documents", "visit", "free"} {
		ts = append(ts, smsTemplate{id, tr(ui, "sms.tpl."+id+".label"), tr(caller, "sms.tpl."+id)})
	}
	return ts
}

// MaxSMSParts bounds a free-text SMS from the console.
const MaxSMSParts = 3

func (c *Console) sendSMS(w http.ResponseWriter, r *http.Request) {
	u, _ := userOf(r)
	p, err := c.phoneParam(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	f := r.PostForm
	text := strings.TrimSpace(f.Get("text"))
	lang := f.Get("lang")
	if lang != "en" {
		lang = "fr"
	}
	if text == "" {
		c.renderCaller(w, r, http.StatusBadRequest, map[string]string{"text": tr(u.Lang, "form.required")}, f)
		return
	}
	if _, err := sms.Encode(text, sms.Options{MaxParts: MaxSMSParts}); err != nil {
		c.renderCaller(w, r, http.StatusBadRequest, map[string]string{"text": tr(u.Lang, "sms.toolong", MaxSMSParts)}, f)
		return
	}
	err = c.Outbox.Enqueue(r.Context(), []outbox.Message{{Phone: p, Lang: lang, Body: text, Kind: "hotline",
		Created: c.now(), Status: outbox.MessagePending}})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r.Context(), u, "sms.send", p, text)
	c.redirect(w, r, "/callers/"+url.PathEscape(p), "sms")
}

func (c *Console) cancelBooking(w http.ResponseWriter, r *http.Request) {
	u, _ := userOf(r)
	p, b, err := c.booking(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	ref := b.Ref
	if _, err := c.Cases.Do(r.Context(), menus.Call{Op: "slots.cancel", Service: b.Service, Phone: p, Lang: b.Lang, Channel: "hotline",
		Args: map[string]string{"ref": ref}}); err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r.Context(), u, "booking.cancel", p, ref)
	c.redirect(w, r, "/callers/"+url.PathEscape(p), "cancelled")
}

// moveBooking cancels a booking and books the new slot; if the new slot
// cannot be had, the old one is booked again so that the caller loses
// nothing.
func (c *Console) moveBooking(w http.ResponseWriter, r *http.Request) {
	u, _ := userOf(r)
	p, b, err := c.booking(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	ref, slot := b.Ref, r.PostForm.Get("slot")
	if slot == "" {
		c.renderCaller(w, r, http.StatusBadRequest, map[string]string{"slot-" + ref: tr(u.Lang, "booking.pickslot")}, r.PostForm)
		return
	}
	// Once started, the move runs to its end even if the browser goes.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	call := func(op string, args map[string]string) (menus.Result, error) {
		return c.Cases.Do(ctx, menus.Call{Op: op, Service: b.Service, Phone: p, Lang: b.Lang, Channel: "hotline", Args: args})
	}
	// Only a slot offered now, with places left: the booking is not
	// touched for one that cannot be had.
	offered, err := call("slots.list", map[string]string{"office": b.Office})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if !slices.ContainsFunc(offered.Options, func(o menus.Choice) bool { return o.ID == slot }) {
		c.renderCaller(w, r, http.StatusConflict, map[string]string{"slot-" + ref: tr(u.Lang, "booking.gone")}, r.PostForm)
		return
	}
	if _, err := call("slots.cancel", map[string]string{"ref": ref}); err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(ctx, u, "booking.cancel", p, ref+" (move)")
	res, err := call("slots.book", map[string]string{"office": b.Office, "slot": slot})
	if err != nil {
		// Taken meanwhile: the caller gets their slot back (under a new
		// reference) rather than none, and the operator is told if not.
		old := b.Start.In(c.location()).Format("200601021504")
		msg := tr(u.Lang, "booking.restored", guichet.ErrorMessage(err))
		if back, rerr := call("slots.book", map[string]string{"office": b.Office, "slot": old}); rerr != nil {
			c.Log.Error("moving a booking: the old slot could not be booked again", "ref", ref, "err", rerr)
			c.audit(ctx, u, "booking.lost", p, ref)
			msg = tr(u.Lang, "booking.lost", guichet.ErrorMessage(err))
		} else {
			c.audit(ctx, u, "booking.restore", p, ref+" → "+back.Vars["ref"])
		}
		c.renderCaller(w, r, http.StatusConflict, map[string]string{"booking": msg}, r.PostForm)
		return
	}
	c.audit(ctx, u, "booking.move", p, ref+" → "+res.Vars["ref"]+" "+slot)
	c.redirect(w, r, "/callers/"+url.PathEscape(p), "rebooked")
}

// booking reads the {phone} and {ref} of a path: the caller and one of
// their bookings.
func (c *Console) booking(r *http.Request) (string, cases.Booking, error) {
	p, err := c.phoneParam(r)
	if err != nil {
		return "", cases.Booking{}, err
	}
	ref := chi.URLParam(r, "ref")
	bs, err := c.Records.Bookings(r.Context(), p, c.now().Add(-24*time.Hour))
	if err != nil {
		return "", cases.Booking{}, err
	}
	i := slices.IndexFunc(bs, func(b cases.Booking) bool { return b.Ref == ref })
	if i < 0 {
		return "", cases.Booking{}, guichet.Errorf(guichet.ENOTFOUND, "no booking %s for this caller", ref)
	}
	return p, bs[i], nil
}
