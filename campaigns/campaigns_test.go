package campaigns_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/campaigns"
	"github.com/guichet/guichet/campaigns/campaignstest"
	"github.com/guichet/guichet/outbox"
)

func TestMemory(t *testing.T) {
	out := outbox.NewMemory()
	campaignstest.Run(t, &campaigns.Memory{Outbox: out}, func(t *testing.T) { SendAll(t, out) })
}

// SendAll claims every message waiting in out and records it sent.
func SendAll(t *testing.T, out *outbox.Memory) {
	t.Helper()
	msgs, err := out.ClaimMessages(t.Context(), 100_000, time.Minute, time.Now())
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
