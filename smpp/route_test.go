package smpp

import "testing"

func TestRoutes(t *testing.T) {
	r, err := NewRoutes(append(Cameroon, Route{Operator: "camtel", Prefixes: []string{"2376200"}}), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		number, op string
		ok         bool
	}{
		{"+237677123456", "mtn", true},
		{"+237650123456", "mtn", true},
		{"+237655123456", "orange", true},
		{"+237699123456", "orange", true},
		{"+237662123456", "nexttel", true},
		{"+237684123456", "nexttel", true},
		{"+237683123456", "mtn", true},
		{"+237620012345", "camtel", true},
		{"+237222230001", "", false}, // a fixed line: no route
		{"+233241234567", "", false}, // Ghana
		{"+2376", "", false},
	} {
		op, ok := r.Operator(tt.number)
		if op != tt.op || ok != tt.ok {
			t.Errorf("Operator(%s) = %q, %v; want %q, %v", tt.number, op, ok, tt.op, tt.ok)
		}
	}
	def, _ := NewRoutes(Cameroon, "aggregator")
	if op, ok := def.Operator("+233241234567"); op != "aggregator" || !ok {
		t.Errorf("the default route: %q, %v", op, ok)
	}
	for _, bad := range [][]Route{
		{{Operator: "x", Prefixes: []string{"23767a"}}},
		{{Operator: "", Prefixes: []string{"237"}}},
		{{Operator: "a", Prefixes: []string{"23767"}}, {Operator: "b", Prefixes: []string{"+23767"}}},
	} {
		if _, err := NewRoutes(bad, ""); err == nil {
			t.Errorf("NewRoutes(%v) accepted", bad)
		}
	}
}
