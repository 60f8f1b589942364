package delivery

import (
	"fmt"
	"testing"

	"github.com/guichet/guichet/outbox"
)

// recentSent names a receipt's message by its id while it remembers it:
// on its bind, number and SMSC id only; a receipt that ends the message
// forgets it, one that does not (ENROUTE) keeps it; past its size the
// oldest is forgotten; a message whose receipt came with its outcome, or
// that was not sent, is not remembered.
func TestRecentSent(t *testing.T) {
	r := &recentSent{size: 3}
	sent := func(id int64) outbox.Outcome {
		return outbox.Outcome{ID: id, Status: outbox.MessageSent, Bind: "mtn-1", Phone: fmt.Sprintf("+23767700000%d", id), SMSCID: fmt.Sprint(100 + id)}
	}
	receipt := func(id int64, state string) outbox.Receipt {
		return outbox.Receipt{Bind: "mtn-1", Phone: fmt.Sprintf("+23767700000%d", id), SMSCID: fmt.Sprintf(" %d ", 100+id), State: state}
	}
	folded := sent(5)
	folded.Receipt = "DELIVRD"
	r.remember([]outbox.Outcome{sent(1), sent(2), {ID: 9, Status: outbox.MessagePending}, folded})
	r.remember([]outbox.Outcome{sent(3), sent(4)}) // 1 is forgotten: three at most
	other := receipt(2, "DELIVRD")
	other.Bind = "mtn-2"
	rs := []outbox.Receipt{receipt(1, "DELIVRD"), receipt(2, "ENROUTE"), receipt(3, "DELIVRD"), other, receipt(5, "DELIVRD"), {ID: 7, Bind: "mtn-1", SMSCID: "x"}}
	r.name(rs)
	for i, want := range []int64{0, 2, 3, 0, 0, 7} {
		if rs[i].ID != want {
			t.Errorf("receipt %d named message %d, want %d", i, rs[i].ID, want)
		}
	}
	again := []outbox.Receipt{receipt(2, "DELIVRD"), receipt(3, "DELIVRD"), receipt(4, "DELIVRD")}
	r.name(again)
	for i, want := range []int64{2, 0, 4} {
		if again[i].ID != want {
			t.Errorf("then receipt %d named message %d, want %d (an ENROUTE keeps it, a DELIVRD forgets it)", i, again[i].ID, want)
		}
	}
	if len(r.ids) != 0 {
		t.Errorf("still remembered %v once every receipt ended its message", r.ids)
	}
}

// Of several receipts of one batch for a message whose outcome is in it,
// the first that ends the message is folded into the outcome, as the store
// keeps a message's first final state; all of them are answered with it,
// and the others of the batch are left, each with where its answer goes.
func TestFoldFirstFinal(t *testing.T) {
	outcomes := []outbox.Outcome{
		{ID: 1, Status: outbox.MessageSent, Bind: "mtn-1", Phone: "+237677000001", SMSCID: "a1"},
		{ID: 2, Status: outbox.MessagePending},
	}
	r := func(id, state string) outbox.Receipt {
		return outbox.Receipt{Bind: "mtn-1", Phone: "+237677000001", SMSCID: id, State: state}
	}
	receipts := []outbox.Receipt{r("a1", "ENROUTE"), r("b2", "DELIVRD"), r("a1", "UNDELIV"), r("a1", "DELIVRD")}
	left, at, folded := fold(outcomes, receipts, []int{10, 11, 12, 13})
	if outcomes[0].Receipt != "UNDELIV" || outcomes[1].Receipt != "" {
		t.Errorf("outcomes carry %q and %q, want UNDELIV and none", outcomes[0].Receipt, outcomes[1].Receipt)
	}
	if len(left) != 1 || left[0].SMSCID != "b2" || len(at) != 1 || at[0] != 11 {
		t.Errorf("left %v at %v, want the b2 receipt at 11", left, at)
	}
	var answers []int
	for _, f := range folded {
		answers = append(answers, f.at)
	}
	if fmt.Sprint(answers) != "[10 12 13]" {
		t.Errorf("folded receipts answered at %v, want [10 12 13]", answers)
	}
}
