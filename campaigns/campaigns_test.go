package campaigns_test

import (
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/campaigns"
	"github.com/guichet/guichet/campaigns/campaignstest"
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
