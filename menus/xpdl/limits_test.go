package xpdl_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/menus/xpdl"
)

// importLimits imports data and returns the result, failing the test when
// the importer refuses it.
func importLimits(t *testing.T, data string) *xpdl.Result {
	t.Helper()
	res, err := xpdl.Import([]byte(data), xpdl.Options{File: "limits.xpdl", Operations: cases.Operations})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return res
}

// TestLongNegation: a condition of millions of '!' after a yes/no screen
// once overflowed the stack through recursion.
func TestLongNegation(t *testing.T) {
	cond := strings.Repeat("!", 2<<20) // three times in the file: 6 MiB + "approved"
	res := importLimits(t, template("Nom", "approved", cond, "BOOLEAN", "Exclusive", "app", "Fin"))
	if !strings.Contains(res.Report.String(), "is not evaluated") {
		t.Errorf("the long condition is not reported:\n%s", res.Report)
	}
	for _, f := range res.Files {
		if _, err := menus.ParseService(f.Name, f.YAML); err != nil {
			t.Errorf("%s does not load: %v", f.Name, err)
		}
	}
}

// allocated runs f and returns the bytes it allocated: the input classes
// below once made the importer quadratic, which shows as gigabytes
// allocated for a megabyte read, whatever the machine's speed. (The YAML
// encoder alone allocates some 500 times its output, linearly.) A split
// listing many transitions was quadratic in comparisons, not allocations:
// that case only shows as a slow test.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// process wraps activities and transitions in a package.
func process(acts, trans string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="http://www.wfmc.org/2009/XPDL2.2" Id="p" Name="Limites">
<WorkflowProcesses><WorkflowProcess Id="w" Name="Limites">
<Activities>
` + acts + `</Activities>
<Transitions>
` + trans + `</Transitions>
</WorkflowProcess></WorkflowProcesses>
</Package>
`
}

// TestBoundedWork feeds the importer inputs within the reader's limits
// that once blew up, and holds the work and the output to their size.
func TestBoundedWork(t *testing.T) {
	// Unnamed activities: every node named "step", "step_2"… once tried
	// every suffix from 2.
	unnamed := func(n int) string {
		var acts, trans strings.Builder
		for i := range n {
			fmt.Fprintf(&acts, "<Activity Id=\"a%d\"/>\n", i)
			if i > 0 {
				fmt.Fprintf(&trans, "<Transition Id=\"t%d\" From=\"a%d\" To=\"a%d\"/>\n", i, i-1, i)
			}
		}
		return process(acts.String(), trans.String())
	}
	// Text cut by many children: once appended to a string each time.
	children := func(n int) string {
		return process(`<Activity Id="a" Name="Étape"><Description>`+strings.Repeat("x<a/>\n", n)+`</Description></Activity>`+"\n", "")
	}
	// A long name shown on many screens: once copied whole into each.
	longName := func(n int) string {
		var fields, maps strings.Builder
		for i := range n {
			fmt.Fprintf(&fields, "<DataField Id=\"f%d\" Name=\"Champ\"><DataType><BasicType Type=\"STRING\"/></DataType></DataField>\n", i)
			fmt.Fprintf(&maps, "<DataMapping Direction=\"OUT\" Formal=\"f%d\"><Actual>f%d</Actual></DataMapping>\n", i, i)
		}
		data := process(`<Activity Id="a" Name="`+strings.Repeat("Nom ", 2<<20/4)+`"><Implementation><No/></Implementation><DataMappings>`+
			maps.String()+`</DataMappings></Activity>`+"\n", "")
		return strings.Replace(data, "<Activities>", "<DataFields>"+fields.String()+"</DataFields>\n<Activities>", 1)
	}
	// A split that lists many transitions: once searched in loops.
	refs := func(n int) string {
		var acts, trans, list strings.Builder
		for i := range n {
			fmt.Fprintf(&acts, "<Activity Id=\"b%d\" Name=\"Choix %d\"><Event><EndEvent/></Event></Activity>\n", i, i)
			fmt.Fprintf(&trans, "<Transition Id=\"t%d\" From=\"g\" To=\"b%d\"/>\n", i, i)
			fmt.Fprintf(&list, "<TransitionRef Id=\"t%d\"/>", i)
		}
		g := `<Activity Id="g" Name="Quel cas"><Route GatewayType="Exclusive"/><TransitionRestrictions><TransitionRestriction><Split Type="Exclusive"><TransitionRefs>` +
			list.String() + `</TransitionRefs></Split></TransitionRestriction></TransitionRestrictions></Activity>` + "\n"
		return process(g+acts.String(), trans.String())
	}
	tests := []struct {
		name  string
		data  string
		out   int // the service files hold at most this many bytes
		check func(t *testing.T, res *xpdl.Result)
	}{
		{"unnamed activities", unnamed(10000), 4 << 20, func(t *testing.T, res *xpdl.Result) {
			if !strings.Contains(string(res.Files[0].YAML), "step_9999:") {
				t.Errorf("the 20000th unnamed step is not step_19999")
			}
		}},
		{"text cut by children", children(400000), 1 << 20, nil},
		{"long name on 300 screens", longName(300), 1 << 20, func(t *testing.T, res *xpdl.Result) {
			if !strings.Contains(res.Report.String(), "cut to 160") {
				t.Errorf("the long name is not reported")
			}
		}},
		{"split listing many transitions", refs(10000), 8 << 20, func(t *testing.T, res *xpdl.Result) {
			if !strings.Contains(string(res.Files[0].YAML), "Choix 9999") {
				t.Errorf("the last option is missing")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.data) > xpdl.MaxFileSize {
				t.Fatalf("input of %d bytes, over the reader's limit", len(tt.data))
			}
			var res *xpdl.Result
			alloc := allocated(func() { res = importLimits(t, tt.data) })
			size := 0
			for _, f := range res.Files {
				size += len(f.YAML)
			}
			if size > tt.out {
				t.Errorf("%d bytes of service files for %d bytes of XPDL, want at most %d", size, len(tt.data), tt.out)
			}
			if limit := uint64(1000 * len(tt.data)); alloc > limit {
				t.Errorf("%d MB allocated for %d KB of XPDL, want at most %d MB", alloc>>20, len(tt.data)>>10, limit>>20)
			}
			if tt.check != nil {
				tt.check(t, res)
			}
		})
	}
}

// TestParallelBranchEndingInSubFlow: a parallel branch that ends with a
// call goes on to the next branch, so the call cannot be a link that
// ends the service (the report once said so, and the YAML did not).
func TestParallelBranchEndingInSubFlow(t *testing.T) {
	data := `<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="http://www.wfmc.org/2009/XPDL2.2" Id="p" Name="Mairie">
<WorkflowProcesses>
<WorkflowProcess Id="w" Name="Demande">
<Activities>
<Activity Id="s"><Event><StartEvent/></Event></Activity>
<Activity Id="and"><Route GatewayType="Parallel"/></Activity>
<Activity Id="call" Name="Payer"><Implementation><SubFlow Id="pay"/></Implementation></Activity>
<Activity Id="form" Name="Remplir la fiche"/>
<Activity Id="join"><Route GatewayType="Parallel"/></Activity>
<Activity Id="e"><Event><EndEvent/></Event></Activity>
</Activities>
<Transitions>
<Transition Id="t1" From="s" To="and"/>
<Transition Id="t2" From="and" To="call"/>
<Transition Id="t3" From="and" To="form"/>
<Transition Id="t4" From="call" To="join"/>
<Transition Id="t5" From="form" To="join"/>
<Transition Id="t6" From="join" To="e"/>
</Transitions>
</WorkflowProcess>
<WorkflowProcess Id="pay" Name="Paiement"><Activities><Activity Id="x" Name="Payer le timbre"/></Activities></WorkflowProcess>
</WorkflowProcesses>
</Package>
`
	res := importLimits(t, data)
	report, main := res.Report.String(), string(res.Files[0].YAML)
	if strings.Contains(report, "last: a link") {
		t.Errorf("the report says the call ends the service:\n%s", report)
	}
	if !strings.Contains(report, "its screens are copied here") {
		t.Errorf("the report does not say the call is copied:\n%s", report)
	}
	if !strings.Contains(main, `menu: {fr: "Remplir la fiche"}`) || strings.Contains(main, `"@paiement"`) {
		t.Errorf("the second branch is not reached after the call:\n%s", main)
	}
}

// TestSplitOnAnswers: a split whose conditions test only what screens ask
// is a choice the caller can make, and is not reported as having no
// phone equivalent.
func TestSplitOnAnswers(t *testing.T) {
	res := importLimits(t, template("Nom", "approved", "approved == true && !approved", "BOOLEAN", "Exclusive", "app", "Fin"))
	if r := res.Report.String(); strings.Contains(r, "which the caller is not asked") || !strings.Contains(r, "is not evaluated") {
		t.Errorf("report:\n%s", r)
	}
	res = importLimits(t, template("Nom", "approved", "decision == 'ok'", "BOOLEAN", "Exclusive", "app", "Fin"))
	if r := res.Report.String(); strings.Contains(r, "which the caller is not asked") {
		t.Errorf("a name that is no data field is taken for one:\n%s", r)
	}
}
