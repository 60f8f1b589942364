package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/campaigns"
	"github.com/guichet/guichet/staff"
)

// CampaignStore is where the API keeps campaigns (campaigns.Store).
type CampaignStore = campaigns.Store

// Auditor keeps the audit log the console shows (staff.Memory,
// postgres.Console): a campaign's history, whoever moved it.
type Auditor interface {
	Audit(ctx context.Context, e staff.AuditEntry) error
}

// audit records a campaign's step made through the API; a step that cannot
// be recorded is said in the log, the step stands.
func (s *Server) audit(r *http.Request, action string, id int64, detail string) {
	if s.Audit == nil {
		return
	}
	e := staff.AuditEntry{At: s.now(), User: "api:" + apiKey(r).ID, Action: action, Subject: "campaign:" + strconv.FormatInt(id, 10), Detail: detail}
	if err := s.Audit.Audit(r.Context(), e); err != nil {
		s.Log.Error("writing the audit log", "action", action, "err", err)
	}
}

// CampaignRequest is the body of POST /api/v1/campaigns.
type CampaignRequest struct {
	Name     string             `json:"name"`
	Text     map[string]string  `json:"text"`
	Window   *CampaignWindow    `json:"window,omitempty"`
	Rate     float64            `json:"rate,omitempty"`
	Rates    map[string]float64 `json:"rates,omitempty"` // per operator
	Audience CampaignAudience   `json:"audience"`
}

// CampaignWindow is the sending window, in Africa/Douala's time.
type CampaignWindow struct {
	From string `json:"from"` // "08:00"
	To   string `json:"to"`   // "20:00"
}

// CampaignAudience is who gets the campaign: numbers, a CSV file's text,
// or the citizens of one of the key's services (those whose cases are in
// a status, if given). One of them.
type CampaignAudience struct {
	Numbers []string `json:"numbers,omitempty"`
	CSV     string   `json:"csv,omitempty"`
	Service string   `json:"service,omitempty"`
	Status  string   `json:"status,omitempty"`
}

// CampaignView is a campaign as the API shows it, with its progress.
type CampaignView struct {
	ID       string                   `json:"id"`
	Name     string                   `json:"name"`
	Text     map[string]string        `json:"text"`
	Window   CampaignWindow           `json:"window"`
	Rate     float64                  `json:"rate,omitempty"`
	Rates    map[string]float64       `json:"rates,omitempty"`
	State    string                   `json:"state"`
	Created  time.Time                `json:"created"`
	Started  time.Time                `json:"started,omitzero"`
	Finished time.Time                `json:"finished,omitzero"`
	Audience int                      `json:"audience"`
	Waiting  int                      `json:"waiting"`
	OptedOut int                      `json:"opted_out"`
	Counts   map[string]campaigns.Row `json:"operators"`
	BadLines []campaigns.LineError    `json:"bad_lines,omitempty"`
	// Paused says why, when the gateway paused it (its key's day spent).
	Paused string `json:"paused_because,omitempty"`
}

// MaxCampaignBody bounds POST /api/v1/campaigns: a CSV of about 100,000
// numbers.
const MaxCampaignBody = 4 << 20

func minutes(hhmm string) (int, error) {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		return 0, guichet.Errorf(guichet.EINVALID, "window: %q is not a time like 08:00", hhmm)
	}
	return t.Hour()*60 + t.Minute(), nil
}

func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request) {
	var req CampaignRequest
	if !decodeBody(w, r, MaxCampaignBody, &req) {
		return
	}
	k := apiKey(r)
	c := campaigns.Campaign{Owner: k.Owner, Name: strings.TrimSpace(req.Name), Text: req.Text, Rate: req.Rate, Rates: req.Rates,
		From: campaigns.DefaultFrom, To: campaigns.DefaultTo, By: "api:" + k.ID, Key: k.ID}
	if req.Window != nil {
		var err error
		if c.From, err = minutes(req.Window.From); err == nil {
			c.To, err = minutes(req.Window.To)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if err := c.Check(); err != nil {
		s.fail(w, r, err)
		return
	}
	numbers, bad, err := s.audience(r.Context(), k.Owner, req.Audience)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	made, err := s.Campaigns.CreateCampaign(r.Context(), c, numbers)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.Log.Info("campaign made", "campaign", made.ID, "owner", k.Owner, "numbers", len(numbers), "bad_lines", len(bad))
	s.audit(r, "campaign.create", made.ID, fmt.Sprintf("%s (%s): %d numbers, %d bad lines", made.Name, k.Owner, len(numbers), len(bad)))
	s.writeCampaign(w, r, http.StatusCreated, made, bad)
}

// audience reads who a campaign goes to.
func (s *Server) audience(ctx context.Context, owner string, a CampaignAudience) ([]string, []campaigns.LineError, error) {
	given := 0
	for _, b := range []bool{len(a.Numbers) > 0, a.CSV != "", a.Service != ""} {
		if b {
			given++
		}
	}
	if given != 1 {
		return nil, nil, guichet.Errorf(guichet.EINVALID, "audience: give numbers, csv or service, one of them")
	}
	switch {
	case a.CSV != "":
		return campaigns.ReadNumbers(strings.NewReader(a.CSV), "CM")
	case len(a.Numbers) > 0:
		return campaigns.ReadNumbers(strings.NewReader(strings.Join(a.Numbers, "\n")), "CM")
	}
	if s.Catalogue.Services[a.Service] == nil || s.Catalogue.Services[a.Service].Owner != owner {
		return nil, nil, guichet.Errorf(guichet.EINVALID, "audience: no service %q of yours", a.Service)
	}
	numbers, err := campaigns.FromCases(ctx, s.Cases, a.Service, a.Status, owner)
	return numbers, nil, err
}

func (s *Server) writeCampaign(w http.ResponseWriter, r *http.Request, status int, c campaigns.Campaign, bad []campaigns.LineError) {
	p, err := s.Campaigns.Progress(r.Context(), c.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, status, CampaignView{ID: strconv.FormatInt(c.ID, 10), Name: c.Name, Text: c.Text, Rate: c.Rate, Rates: c.Rates, State: c.State,
		Window:  CampaignWindow{From: fmt.Sprintf("%02d:%02d", c.From/60, c.From%60), To: fmt.Sprintf("%02d:%02d", c.To/60, c.To%60)},
		Created: c.Created, Started: c.Started, Finished: c.Finished, Audience: p.Audience, Waiting: p.Waiting, OptedOut: p.Skipped,
		Counts: p.Counts, BadLines: bad, Paused: c.Paused})
}

// ownCampaign reads the campaign of the URL if the key's administration
// made it.
func (s *Server) ownCampaign(w http.ResponseWriter, r *http.Request) (campaigns.Campaign, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	var c campaigns.Campaign
	if err == nil {
		c, err = s.Campaigns.Campaign(r.Context(), id)
	}
	if err != nil || c.Owner != owner(r) {
		writeProblem(w, r, http.StatusNotFound, "no campaign "+chi.URLParam(r, "id")+" of yours")
		return c, false
	}
	return c, true
}

func (s *Server) getCampaign(w http.ResponseWriter, r *http.Request) {
	if c, ok := s.ownCampaign(w, r); ok {
		s.writeCampaign(w, r, http.StatusOK, c, nil)
	}
}

func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request) {
	all, err := s.Campaigns.Campaigns(r.Context(), owner(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		Campaigns []map[string]string `json:"campaigns"`
	}{Campaigns: []map[string]string{}}
	for _, c := range all {
		out.Campaigns = append(out.Campaigns, map[string]string{"id": strconv.FormatInt(c.ID, 10), "name": c.Name, "state": c.State})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) moveCampaign(w http.ResponseWriter, r *http.Request) {
	m, ok := campaigns.Actions[chi.URLParam(r, "action")]
	if !ok {
		writeProblem(w, r, http.StatusNotFound, "no such action: start, pause, resume or cancel")
		return
	}
	c, ok := s.ownCampaign(w, r)
	if !ok {
		return
	}
	if m.To == campaigns.Running && c.Key != "" && s.Days != nil && slices.Contains(m.From, c.State) {
		// Its messages count against its key's day: none left, it
		// would only be paused again.
		reason, retry, err := s.Days.Spent(r.Context(), c.Key)
		switch {
		case err != nil:
			s.fail(w, r, err)
			return
		case reason != "" && retry > 0:
			w.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())+1))
			writeProblem(w, r, http.StatusTooManyRequests, "campaign "+strconv.FormatInt(c.ID, 10)+" cannot "+chi.URLParam(r, "action")+": "+reason)
			return
		case reason != "":
			writeProblem(w, r, http.StatusConflict, "campaign "+strconv.FormatInt(c.ID, 10)+" cannot "+chi.URLParam(r, "action")+": "+reason)
			return
		}
	}
	moved, err := s.Campaigns.SetState(r.Context(), c.ID, m.From, m.To, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.Log.Info("campaign "+chi.URLParam(r, "action"), "campaign", c.ID, "owner", c.Owner, "key_id", apiKey(r).ID)
	s.audit(r, "campaign."+chi.URLParam(r, "action"), c.ID, c.Name+" ("+c.Owner+")")
	s.writeCampaign(w, r, http.StatusOK, moved, nil)
}
