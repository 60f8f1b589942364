package smsc

import "testing"

// What the simulator remembers is bounded: past Keep, the oldest half goes.
func TestRememberIsBounded(t *testing.T) {
	var list []int
	for i := range 1000 {
		list = remember(list, i, 100)
	}
	if len(list) > 100 || list[len(list)-1] != 999 || list[0] < 850 {
		t.Errorf("kept %d, from %d to %d", len(list), list[0], list[len(list)-1])
	}
}
