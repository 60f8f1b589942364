package hotline

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/campaigns"
	"github.com/guichet/guichet/sms"
)

// campaignView is a campaign's page.
type campaignView struct {
	campaigns.Campaign
	Progress  campaigns.Progress
	Percent   int
	Operators []operatorRow
	Bad       string // the lines of its file that were not numbers
	Parts     map[string]string
}

type operatorRow struct {
	Name string
	campaigns.Row
}

func (c *Console) campaignsPage(w http.ResponseWriter, r *http.Request) {
	c.renderCampaigns(w, r, http.StatusOK, nil, url.Values{"from": {"08:00"}, "to": {"20:00"}})
}

func (c *Console) renderCampaigns(w http.ResponseWriter, r *http.Request, status int, errs map[string]string, form url.Values) {
	all, err := c.Campaigns.Campaigns(r.Context(), "*")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	u, _ := userOf(r)
	var services []map[string]any
	for _, id := range c.Catalogue.ServiceIDs() {
		svc := c.Catalogue.Services[id]
		var statuses []map[string]string
		for _, st := range sortedKeys(svc.Statuses) {
			statuses = append(statuses, map[string]string{"ID": st, "Label": svc.Statuses[st].Label.Get(u.Lang)})
		}
		services = append(services, map[string]any{"ID": id, "Title": svc.Title.Get(u.Lang), "Statuses": statuses})
	}
	c.render(w, r, status, "campaigns", view{Data: map[string]any{"Campaigns": all, "Services": services}, Errors: errs, Form: form,
		Flash: flash(r, u.Lang)})
}

func clockMinutes(s string) (int, bool) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	return t.Hour()*60 + t.Minute(), err == nil
}

// createCampaign makes a campaign from the form: its texts, window, rate
// and the audience file; each problem is said next to its field.
func (c *Console) createCampaign(w http.ResponseWriter, r *http.Request) {
	u, _ := userOf(r)
	f := r.PostForm
	errs := map[string]string{}
	camp := campaigns.Campaign{Name: strings.TrimSpace(f.Get("name")), Text: map[string]string{}, By: u.Name}
	for _, lang := range []string{"fr", "en"} {
		if t := strings.TrimSpace(f.Get("text_" + lang)); t != "" {
			camp.Text[lang] = t
			if _, err := sms.Encode(t, sms.Options{MaxParts: campaigns.MaxParts}); err != nil {
				errs["text_"+lang] = tr(u.Lang, "campaign.toolong", campaigns.MaxParts)
			}
		}
	}
	var ok1, ok2 bool
	camp.From, ok1 = clockMinutes(f.Get("from"))
	camp.To, ok2 = clockMinutes(f.Get("to"))
	if !ok1 || !ok2 {
		errs["from"] = tr(u.Lang, "campaign.window")
	}
	if rate := strings.TrimSpace(f.Get("rate")); rate != "" {
		n, err := strconv.ParseFloat(rate, 64)
		if err != nil || n < 0 {
			errs["rate"] = tr(u.Lang, "campaign.rate")
		}
		camp.Rate = n
	}
	if rates := strings.Fields(strings.ReplaceAll(f.Get("rates"), ",", " ")); len(rates) > 0 {
		camp.Rates = map[string]float64{}
		for _, kv := range rates {
			op, v, ok := strings.Cut(kv, "=")
			n, err := strconv.ParseFloat(v, 64)
			if !ok || op == "" || err != nil || n <= 0 {
				errs["rates"] = tr(u.Lang, "campaign.ratesbad")
				break
			}
			camp.Rates[strings.ToLower(op)] = n
		}
	}
	switch {
	case camp.Name == "":
		errs["name"] = tr(u.Lang, "form.required")
	case len(camp.Text) == 0:
		errs["text_fr"] = tr(u.Lang, "campaign.notext")
	}
	if len(errs) == 0 {
		if err := camp.Check(); err != nil {
			if strings.HasPrefix(guichet.ErrorMessage(err), "window") {
				errs["from"] = tr(u.Lang, "campaign.window")
			} else {
				errs["name"] = guichet.ErrorMessage(err)
			}
		}
	}
	var numbers []string
	var bad []campaigns.LineError
	file, _, err := r.FormFile("audience")
	switch {
	case f.Get("service") != "":
		// The citizens of a service, or those whose cases are in a status.
		svc := c.Catalogue.Services[f.Get("service")]
		status := strings.TrimSpace(f.Get("status"))
		if svc == nil || status != "" && svc.Statuses[status] == nil {
			errs["service"] = tr(u.Lang, "campaign.noservice")
			break
		}
		if numbers, err = campaigns.FromCases(r.Context(), c.Cases, svc.ID, status, ""); err != nil {
			errs["service"] = tr(u.Lang, "campaign.nocitizen")
		}
	case err != nil:
		errs["audience"] = tr(u.Lang, "campaign.nofile")
	default:
		defer file.Close()
		numbers, bad, err = campaigns.ReadNumbers(io.LimitReader(file, MaxUpload), c.Region)
		switch {
		case err != nil:
			errs["audience"] = guichet.ErrorMessage(err)
		case len(numbers) == 0:
			errs["audience"] = tr(u.Lang, "campaign.nonumber")
		}
	}
	if len(errs) > 0 {
		c.renderCampaigns(w, r, http.StatusBadRequest, errs, f)
		return
	}
	made, err := c.Campaigns.CreateCampaign(r.Context(), camp, numbers)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if err := c.audit(r.Context(), u, "campaign.create", campaignSubject(made.ID),
		fmt.Sprintf("%s: %d numbers, %d bad lines", made.Name, len(numbers), len(bad))); err != nil {
		c.fail(w, r, err)
		return
	}
	var lines []string
	for i, b := range bad {
		if i == 20 {
			lines = append(lines, "…")
			break
		}
		lines = append(lines, strconv.Itoa(b.Line))
	}
	p := fmt.Sprintf("/campaigns/%d", made.ID)
	if len(lines) > 0 {
		p += "?bad=" + url.QueryEscape(strings.Join(lines, ", "))
	}
	c.redirect(w, r, p, "campaign")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func campaignSubject(id int64) string { return "campaign:" + strconv.FormatInt(id, 10) }

func (c *Console) campaignPage(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		c.fail(w, r, guichet.Errorf(guichet.ENOTFOUND, "no such campaign"))
		return
	}
	camp, err := c.Campaigns.Campaign(r.Context(), id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p, err := c.Campaigns.Progress(r.Context(), id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v := campaignView{Campaign: camp, Progress: p, Bad: r.URL.Query().Get("bad"), Parts: map[string]string{}}
	if p.Audience > 0 {
		v.Percent = 100 * (p.Audience - p.Waiting) / p.Audience
	}
	for name, row := range p.Counts {
		v.Operators = append(v.Operators, operatorRow{Name: name, Row: row})
	}
	sort.Slice(v.Operators, func(i, j int) bool { return v.Operators[i].Name < v.Operators[j].Name })
	for lang, t := range camp.Text {
		if m, err := sms.Encode(t, sms.Options{}); err == nil {
			alphabet := "GSM-7"
			if m.DataCoding == sms.CodingUCS2 {
				alphabet = "UCS-2"
			}
			v.Parts[lang] = fmt.Sprintf("%s, %d SMS", alphabet, len(m.Parts))
		}
	}
	u, _ := userOf(r)
	c.render(w, r, http.StatusOK, "campaign", view{Data: v, Title: tr(u.Lang, "title.campaign") + " " + camp.Name, Flash: flash(r, u.Lang)})
}

func (c *Console) moveCampaign(w http.ResponseWriter, r *http.Request) {
	u, _ := userOf(r)
	action := chi.URLParam(r, "action")
	m, ok := campaigns.Actions[action]
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if !ok || err != nil {
		c.fail(w, r, guichet.Errorf(guichet.ENOTFOUND, "no such campaign action"))
		return
	}
	camp, err := c.Campaigns.SetState(r.Context(), id, m.From, m.To, c.now())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if err := c.audit(r.Context(), u, "campaign."+action, campaignSubject(id), camp.Name); err != nil {
		c.fail(w, r, err)
		return
	}
	c.redirect(w, r, fmt.Sprintf("/campaigns/%d", id), "campaign."+action)
}
