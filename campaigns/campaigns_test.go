package campaigns_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/campaigns"
	"github.com/guichet/guichet/campaigns/campaignstest"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/outbox"
)

func TestMemory(t *testing.T) {
	out := outbox.NewMemory()
	campaignstest.Run(t, &campaigns.Memory{Outbox: out}, func(t *testing.T) { campaignstest.SendAll(t, out, time.Now()) })
}

// An audience file: numbers in the first column, a header and blank lines
// allowed, each number once; the lines that are not numbers reported with
// their line numbers.
func TestReadNumbers(t *testing.T) {
	csv := "numero,nom\n677 00 00 01,Ngo\n\n+237677000002,Ekane\nbonjour,x\n677000001,again\n12,short\n\"unclosed,y\n"
	got, bad, err := campaigns.ReadNumbers(strings.NewReader(csv), "CM")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "+237677000001 +237677000002" {
		t.Errorf("numbers %v", got)
	}
	lines := []int{}
	for _, b := range bad {
		lines = append(lines, b.Line)
	}
	if len(bad) != 3 || bad[0].Line != 5 || bad[0].Text != "bonjour" || bad[1].Line != 7 || bad[2].Line != 8 {
		t.Errorf("bad lines %+v (%v), want 5, 7 and 8", bad, lines)
	}
}

// day is an API key's messages of the day, for the Runner: left of them.
type day struct {
	t    *testing.T
	left int
}

func (d *day) Take(_ context.Context, key string, n int) (int, string, error) {
	if key == "" {
		d.t.Error("a campaign of the console was charged to a key")
	}
	took := min(n, d.left)
	d.left -= took
	if took == 0 {
		return 0, "the day of " + key + " is spent", nil
	}
	return took, "", nil
}

func (d *day) Give(_ context.Context, _ string, n int) error {
	d.left += n
	return nil
}

type stopped map[string]bool

func (s stopped) Citizens(_ context.Context, phones []string) (map[string]bool, map[string]string, error) {
	return s, nil, nil
}

// A campaign made with an API key sends no more than the key's day has
// left: each step takes what it queues (one who sent STOP costs nothing),
// and once the day is spent the campaign is paused, saying why. A
// campaign of the console is charged to no key.
func TestCampaignChargedToItsKey(t *testing.T) {
	ctx := t.Context()
	out := outbox.NewMemory()
	s := &campaigns.Memory{Outbox: out}
	noon := time.Date(2026, 12, 2, 12, 0, 0, 0, cases.Cameroon)
	c := campaigns.Campaign{Owner: "health", Name: "Vaccination", Text: map[string]string{"fr": "Vaccination samedi."},
		From: campaigns.DefaultFrom, To: campaigns.DefaultTo, Key: "key_0123456789ab"}
	var numbers []string
	for i := range 30 {
		numbers = append(numbers, fmt.Sprintf("+2376773%05d", i))
	}
	keyed, err := s.CreateCampaign(ctx, c, numbers)
	if err != nil {
		t.Fatal(err)
	}
	c.Key, c.Owner = "", ""
	console, err := s.CreateCampaign(ctx, c, numbers[:5])
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{keyed.ID, console.ID} {
		if _, err := s.SetState(ctx, id, []string{campaigns.Draft}, campaigns.Running, noon); err != nil {
			t.Fatal(err)
		}
	}
	d := &day{t: t, left: 12}
	r := &campaigns.Runner{Store: s, Audience: stopped{numbers[4]: true}, Allowance: d, Chunk: 10, Now: func() time.Time { return noon }}
	for i, want := range []int{30 - 10, 30 - 13, 30 - 13} {
		campaignstest.SendAll(t, out, noon)
		if err := r.Step(ctx); err != nil {
			t.Fatal(err)
		}
		if p, _ := s.Progress(ctx, keyed.ID); p.Waiting != want {
			t.Errorf("step %d: %d waiting, want %d", i+1, p.Waiting, want)
		}
	}
	got, _ := s.Campaign(ctx, keyed.ID)
	if got.State != campaigns.Paused || got.Paused != "the day of key_0123456789ab is spent" {
		t.Errorf("after its key's day: %s, %q; want paused, saying why", got.State, got.Paused)
	}
	counts, _ := out.CampaignCounts(ctx, keyed.ID)
	sent := 0
	for _, n := range counts {
		sent += n.N
	}
	if sent != 12 || d.left != 0 {
		t.Errorf("%d messages for a day of 12 (%d left), want all 12 and no more", sent, d.left)
	}
	if c, _ := s.Campaign(ctx, console.ID); c.State != campaigns.Done {
		t.Errorf("the console's campaign: %s, want done", c.State)
	}
}
