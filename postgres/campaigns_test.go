package postgres_test

import (
	"maps"
	"testing"
	"time"

	"github.com/guichet/guichet/campaigns/campaignstest"
	"github.com/guichet/guichet/cases"
)

func TestCampaigns(t *testing.T) {
	db := newStore(t)
	campaignstest.Run(t, db.Campaigns(), func(t *testing.T) { campaignstest.SendAll(t, db.Outbox(), time.Now()) })
}

// Citizens tells, in one query, who sent STOP and each one's latest case's
// language, as the cases say.
func TestCitizens(t *testing.T) {
	ctx := t.Context()
	db := newStore(t)
	cs := db.Cases()
	all, err := cs.Cases(ctx, cases.CaseFilter{Limit: 500})
	if err != nil || len(all) == 0 {
		t.Fatalf("seeded cases: %d, %v", len(all), err)
	}
	want := map[string]string{}
	latest := map[string]time.Time{}
	var phones []string
	for _, c := range all {
		if _, ok := latest[c.Phone]; !ok {
			phones = append(phones, c.Phone)
		}
		if c.Lang != "" && c.Opened.After(latest[c.Phone]) {
			want[c.Phone], latest[c.Phone] = c.Lang, c.Opened
		}
	}
	if err := cs.SetOptOut(ctx, phones[0], true); err != nil {
		t.Fatal(err)
	}
	// A choice on the phone wins over the latest case's language.
	chose := phones[len(phones)-1]
	other := map[string]string{"fr": "en", "en": "fr", "": "en"}[want[chose]]
	if err := cs.SetLanguage(ctx, chose, other); err != nil {
		t.Fatal(err)
	}
	want[chose] = other
	out, langs, err := cs.Citizens(ctx, append(phones, "+237699999990"))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || !out[phones[0]] {
		t.Errorf("opted out %v, want only %s", out, phones[0])
	}
	if !maps.Equal(langs, want) {
		t.Errorf("languages %v, want %v", langs, want)
	}
}
