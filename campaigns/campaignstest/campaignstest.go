// Package campaignstest holds the contract every store of campaigns keeps
// (campaigns.Memory, postgres.Campaigns), driven through the Runner as the
// gateway drives it.
package campaignstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/campaigns"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/outbox"
)

// audience says who sent STOP and who opened a case in English.
type audience struct{ stopped, english map[string]bool }

func (a audience) Citizens(_ context.Context, phones []string) (map[string]bool, map[string]string, error) {
	out, langs := map[string]bool{}, map[string]string{}
	for _, p := range phones {
		if a.stopped[p] {
			out[p] = true
		}
		if a.english[p] {
			langs[p] = "en"
		}
	}
	return out, langs, nil
}

// routes gives even numbers to mtn, odd ones to orange.
type routes struct{}

func (routes) Operator(phone string) (string, bool) {
	if (phone[len(phone)-1]-'0')%2 == 0 {
		return "mtn", true
	}
	return "orange", true
}

// Outbox is an outbox a test drains by hand (outbox.Memory,
// postgres.Outbox).
type Outbox interface {
	ClaimMessages(ctx context.Context, limit int, lease time.Duration, now time.Time) ([]outbox.Message, error)
	Record(ctx context.Context, outcomes []outbox.Outcome) (int, error)
}

// SendAll does what a dispatcher does, at once: claims every message due
// in out at now and records it sent on mtn's first bind.
func SendAll(t *testing.T, out Outbox, now time.Time) {
	t.Helper()
	msgs, err := out.ClaimMessages(t.Context(), 100_000, time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []outbox.Outcome
	for _, m := range msgs {
		outcomes = append(outcomes, outbox.Outcome{ID: m.ID, Attempt: m.Attempts, Status: outbox.MessageSent, Bind: "mtn-1", SMSCID: fmt.Sprint(m.ID)})
	}
	if _, err := out.Record(t.Context(), outcomes); err != nil {
		t.Fatal(err)
	}
}

// Run runs the contract on a fresh store; send marks every message waiting
// in its outbox sent, as a dispatcher does (the Runner keeps at most a
// chunk of each campaign waiting there).
func Run(t *testing.T, s campaigns.Store, send func(t *testing.T)) {
	ctx := t.Context()
	noon := time.Date(2026, 12, 2, 12, 0, 0, 0, cases.Cameroon)
	c := campaigns.Campaign{Owner: "health", Name: "Vaccination", Text: map[string]string{"fr": "Vaccination samedi.", "en": "Vaccination on Saturday."},
		From: campaigns.DefaultFrom, To: campaigns.DefaultTo, By: "alice"}
	night := c
	night.From, night.To = 20*60, 23*60
	if _, err := s.CreateCampaign(ctx, night, nil); guichet.ErrorCode(err) != guichet.EINVALID {
		t.Errorf("a campaign at night: %v, want invalid", err)
	}
	var numbers []string
	for i := range 25 {
		numbers = append(numbers, fmt.Sprintf("+2376773%05d", i))
	}
	made, err := s.CreateCampaign(ctx, c, append(numbers, numbers[0]))
	if err != nil {
		t.Fatal(err)
	}
	if made.ID == 0 || made.State != campaigns.Draft || made.Text["en"] != c.Text["en"] || made.By != "alice" {
		t.Fatalf("made %+v", made)
	}
	if p, err := s.Progress(ctx, made.ID); err != nil || p.Audience != 25 || p.Waiting != 25 {
		t.Fatalf("progress %+v, %v: want 25 numbers, each once, all waiting", p, err)
	}
	if _, err := s.SetState(ctx, made.ID, []string{campaigns.Running}, campaigns.Paused, noon); guichet.ErrorCode(err) != guichet.ECONFLICT {
		t.Errorf("pausing a draft: %v, want conflict", err)
	}
	if _, err := s.SetState(ctx, 9999, []string{campaigns.Draft}, campaigns.Running, noon); guichet.ErrorCode(err) != guichet.ENOTFOUND {
		t.Errorf("starting no campaign: %v, want not found", err)
	}
	now := noon.Add(-5 * time.Hour) // 07:00: before its window
	r := &campaigns.Runner{Store: s, Chunk: 10, Now: func() time.Time { return now },
		Audience: audience{stopped: map[string]bool{numbers[3]: true}, english: map[string]bool{numbers[1]: true}}}
	step := func() campaigns.Progress {
		t.Helper()
		send(t)
		if err := r.Step(ctx); err != nil {
			t.Fatal(err)
		}
		p, err := s.Progress(ctx, made.ID)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := step(); p.Waiting != 25 {
		t.Errorf("a draft queued something: %+v", p)
	}
	if got, err := s.SetState(ctx, made.ID, []string{campaigns.Draft, campaigns.Paused}, campaigns.Running, now); err != nil || got.Started.IsZero() {
		t.Fatalf("start: %+v, %v", got, err)
	}
	if p := step(); p.Waiting != 25 {
		t.Errorf("queued before its window opened: %+v", p)
	}
	now = noon
	if p := step(); p.Waiting != 15 || p.Skipped != 1 || p.Counts[""].Queued != 9 {
		t.Errorf("a chunk of 10, one who sent STOP: %+v", p)
	}
	// Not sent yet: a step tops the backlog up to a chunk, no more.
	if err := r.Step(ctx); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Progress(ctx, made.ID); p.Waiting != 14 || p.Counts[""].Queued != 10 {
		t.Errorf("a second step while 9 wait to be sent: %+v, want one more queued, a chunk of 10 waiting", p)
	}
	if _, err := s.SetState(ctx, made.ID, []string{campaigns.Running}, campaigns.Paused, now); err != nil {
		t.Fatal(err)
	}
	if p := step(); p.Waiting != 14 {
		t.Errorf("a paused campaign queued: %+v", p)
	}
	if _, err := s.SetState(ctx, made.ID, []string{campaigns.Paused}, campaigns.Running, now); err != nil {
		t.Fatal(err)
	}
	step()
	if p := step(); p.Waiting != 0 {
		t.Errorf("after resuming: %+v, want all queued", p)
	}
	total := 0
	fin, _ := s.Progress(ctx, made.ID)
	for _, row := range fin.Counts {
		total += row.Sent + row.Queued
	}
	if total != 24 {
		t.Errorf("%d messages, want 24 (25 numbers, one who sent STOP)", total)
	}
	done, err := s.Campaign(ctx, made.ID)
	if err != nil || done.State != campaigns.Done || done.Finished.IsZero() {
		t.Errorf("a campaign with nothing left: %+v, %v; want done", done, err)
	}
	if _, err := s.SetState(ctx, made.ID, []string{campaigns.Draft, campaigns.Running, campaigns.Paused}, campaigns.Canceled, now); guichet.ErrorCode(err) != guichet.ECONFLICT {
		t.Errorf("cancelling a done campaign: %v, want conflict", err)
	}
	if all, err := s.Campaigns(ctx, "health"); err != nil || len(all) != 1 {
		t.Errorf("health's campaigns: %+v, %v", all, err)
	}
	if all, err := s.Campaigns(ctx, "commerce"); err != nil || len(all) != 0 {
		t.Errorf("commerce sees %+v, %v", all, err)
	}

	// A rate: a few a step.
	slow := c
	slow.Rate = 3
	rated, err := s.CreateCampaign(ctx, slow, numbers[:10])
	if err != nil {
		t.Fatal(err)
	}
	s.SetState(ctx, rated.ID, []string{campaigns.Draft}, campaigns.Running, now)
	r.Every = time.Second
	send(t)
	r.Step(ctx)
	if p, _ := s.Progress(ctx, rated.ID); p.Waiting != 7 {
		t.Errorf("3 a second, one step: %d waiting, want 7", p.Waiting)
	}

	// A rate for one operator: its numbers wait their turn, the others go.
	perOp := c
	perOp.Rates = map[string]float64{"mtn": 2}
	split, err := s.CreateCampaign(ctx, perOp, numbers[10:20])
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Campaign(ctx, split.ID); err != nil || got.Rates["mtn"] != 2 {
		t.Fatalf("read back %+v, %v: want mtn's rate", got.Rates, err)
	}
	s.SetState(ctx, split.ID, []string{campaigns.Draft}, campaigns.Running, now)
	r.Routes = routes{}
	send(t)
	r.Step(ctx)
	if p, _ := s.Progress(ctx, split.ID); p.Waiting != 3 {
		t.Errorf("mtn at 2 a second, orange unbounded, one step over 5 and 5: %d waiting, want 3", p.Waiting)
	}
	// Two operators of very different rates, the slow one's numbers first
	// and more than a chunk of them: the fast one is fed all the same, at
	// its rate, while the slow one's go at theirs.
	twoRates := c
	twoRates.Rates = map[string]float64{"mtn": 1, "orange": 20}
	var mtnFirst []string
	for i := range 60 {
		mtnFirst = append(mtnFirst, fmt.Sprintf("+2376775%04d", 2*i)) // mtn's: even
	}
	for i := range 30 {
		mtnFirst = append(mtnFirst, fmt.Sprintf("+2376775%04d", 2*i+1)) // orange's: odd
	}
	both, err := s.CreateCampaign(ctx, twoRates, mtnFirst)
	if err != nil {
		t.Fatal(err)
	}
	s.SetState(ctx, both.ID, []string{campaigns.Draft}, campaigns.Running, now)
	fast := &campaigns.Runner{Store: s, Chunk: 50, Every: time.Second, Now: func() time.Time { return now }, Audience: audience{}, Routes: routes{}}
	for i, want := range []int{90 - 1 - 20, 90 - 2 - 30, 90 - 3 - 30} {
		send(t)
		if err := fast.Step(ctx); err != nil {
			t.Fatal(err)
		}
		if p, _ := s.Progress(ctx, both.ID); p.Waiting != want {
			t.Errorf("step %d, mtn at 1 a second, orange at 20, 60 of mtn's numbers first: %d waiting, want %d", i+1, p.Waiting, want)
		}
	}

	// Made through the API: its key kept; paused by the gateway with a
	// reason, which goes when it moves again.
	keyed := c
	keyed.Key = "key_0123456789ab"
	k, err := s.CreateCampaign(ctx, keyed, numbers[:3])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PauseFor(ctx, k.ID, "its key's day is spent", now); guichet.ErrorCode(err) != guichet.ECONFLICT {
		t.Errorf("the gateway pausing a draft: %v, want conflict", err)
	}
	s.SetState(ctx, k.ID, []string{campaigns.Draft}, campaigns.Running, now)
	if got, err := s.PauseFor(ctx, k.ID, "its key's day is spent", now); err != nil || got.State != campaigns.Paused || got.Paused != "its key's day is spent" {
		t.Errorf("paused by the gateway: %+v, %v", got, err)
	}
	if got, err := s.Campaign(ctx, k.ID); err != nil || got.Key != keyed.Key || got.Paused != "its key's day is spent" {
		t.Errorf("read back %+v, %v: want its key and why it was paused", got, err)
	}
	if got, err := s.SetState(ctx, k.ID, []string{campaigns.Paused}, campaigns.Running, now); err != nil || got.Paused != "" {
		t.Errorf("resumed: %+v, %v; want no reason left", got, err)
	}

	bad := c
	bad.Rates = map[string]float64{"mtn": 0}
	if _, err := s.CreateCampaign(ctx, bad, numbers); guichet.ErrorCode(err) != guichet.EINVALID {
		t.Errorf("a rate of 0 for an operator: %v, want invalid", err)
	}
}
