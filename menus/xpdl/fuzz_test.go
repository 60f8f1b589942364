package xpdl_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/menus/xpdl"
)

// FuzzRead feeds the reader and the importer anything: they never panic;
// a file they refuse gets an *xpdl.Error with a message and a line within
// the file; a file they take gives service files that load and a report
// whose lines are the file's.
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.xpdl"))
	more, _ := filepath.Glob(filepath.Join("testdata", "broken_*", "input.xpdl"))
	for _, file := range append(files, more...) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// Small files: their mutations stay XML more often than those of the
	// big samples.
	for _, ns := range []string{"http://www.wfmc.org/2002/XPDL1.0", "http://www.wfmc.org/2004/XPDL2.0alpha",
		"http://www.wfmc.org/2008/XPDL2.1", "http://www.wfmc.org/2009/XPDL2.2", ""} {
		f.Add([]byte(pkg(ns, "2.1", "x")))
	}
	f.Add([]byte(utf16BOM(pkg("http://www.wfmc.org/2008/XPDL2.1", "2.1", "x"))))
	f.Add([]byte(template("Nom", "approved", "approved == true", "BOOLEAN", "Exclusive", "app", "Fin")))
	// Found by fuzzing: an id with a control character once broke the
	// comment above its node.
	f.Add([]byte("<Package xmlns='http://www.wfmC.org/2002/XPDL1.0'><WorkflowProcesses><WorkflowProcess><Activities><Activity Id='\x7f'></Activity></Activities></WorkflowProcess></WorkflowProcesses></Package>"))
	f.Add([]byte("<Package xmlns='http://www.wfmc.org/2002/XPDL1.0'><WorkflowProcesses><WorkflowProcess Id='w'><Activities><Activity Id='a'><Implementation><SubFlow Id='w'/></Implementation></Activity></Activities></WorkflowProcess></WorkflowProcesses></Package>"))
	cat, err := menus.Builtin()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte("\n")) + 1
		p, err := xpdl.Read(data)
		if err != nil {
			var xe *xpdl.Error
			if !errors.As(err, &xe) {
				t.Fatalf("error %v (%T) is not an *xpdl.Error", err, err)
			}
			if xe.Msg == "" || xe.Line < 0 || xe.Line > lines+1 || !utf8.ValidString(xe.Msg) {
				t.Fatalf("unclear error: line %d of %d, %q", xe.Line, lines, xe.Msg)
			}
			return
		}
		mapped(t, p, cat, lines)
	})
}

// mapped maps a package and holds the result to what the gateway needs:
// service files that load, and a report whose lines are the file's.
func mapped(t *testing.T, p *xpdl.Package, cat *menus.Catalogue, lines int) {
	t.Helper()
	res, err := xpdl.Map(p, xpdl.Options{Operations: cases.Operations, Catalogue: cat})
	if err != nil && !errors.Is(err, xpdl.ErrNothing) {
		t.Fatalf("Map: %v", err)
	}
	for _, file := range res.Files {
		if _, err := menus.ParseService(file.Name, file.YAML); err != nil {
			t.Fatalf("%s does not load: %v\n%s", file.Name, err, file.YAML)
		}
		if bytes.ContainsRune(file.YAML, 0) {
			t.Fatalf("%s holds a NUL (a placeholder left behind):\n%s", file.Name, file.YAML)
		}
	}
	for _, s := range res.Report.Services {
		for _, list := range [][]xpdl.Item{s.Unmapped, s.Review, s.Check} {
			for _, it := range list {
				if it.Line < 0 || it.Line > lines+1 || it.Msg == "" {
					t.Fatalf("report item %+v outside the file's %d lines", it, lines)
				}
			}
		}
	}
}

// template is a well-formed package built around fuzzed names, a
// condition, a field type, a gateway type and an application id: what
// FuzzMap changes is what the mapper reads, not whether it is XML.
func template(name, field, cond, typ, gateway, app, end string) string {
	esc := func(s string) string {
		var b bytes.Buffer
		xml.EscapeText(&b, []byte(strings.ToValidUTF8(s, "?")))
		return b.String()
	}
	dataType := `<BasicType Type="` + esc(typ) + `"/>`
	if strings.EqualFold(typ, "enum") {
		dataType = `<EnumerationType><EnumerationValue Name="` + esc(name) + `"/><EnumerationValue Name="` + esc(end) + `"/></EnumerationType>`
	}
	return `<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="http://www.wfmc.org/2009/XPDL2.2" xmlns:v="urn:vendor" Id="` + esc(app) + `" Name="` + esc(name) + `">
<Applications><Application Id="` + esc(app) + `"><FormalParameters><FormalParameter Id="` + esc(field) + `" Mode="IN"/></FormalParameters></Application></Applications>
<WorkflowProcesses>
<WorkflowProcess Id="main" Name="` + esc(name) + `">
<DataFields><DataField Id="` + esc(field) + `" Name="` + esc(name) + `"><DataType>` + dataType + `</DataType>
<ExtendedAttributes><ExtendedAttribute Name="label:en" Value="` + esc(end) + `"/></ExtendedAttributes></DataField></DataFields>
<Activities>
<Activity Id="s"><Event><StartEvent Trigger="` + esc(gateway) + `"/></Event></Activity>
<Activity Id="` + esc(field) + `" Name="` + esc(name) + `" v:DisplayName="` + esc(end) + `"><Implementation><No/></Implementation>
<DataMappings><DataMapping Direction="OUT" Formal="` + esc(field) + `"><Actual>` + esc(field) + `</Actual></DataMapping></DataMappings></Activity>
<Activity Id="g"><Route GatewayType="` + esc(gateway) + `"/></Activity>
<Activity Id="b" Name="` + esc(app) + `"><Implementation><Task><TaskApplication Id="` + esc(app) + `"><ActualParameters><ActualParameter>` + esc(field) + `</ActualParameter></ActualParameters></TaskApplication></Task></Implementation></Activity>
<Activity Id="c" Name="` + esc(end) + `"><Implementation><SubFlow Id="` + esc(cond) + `"/></Implementation></Activity>
<Activity Id="d"><Implementation><SubFlow Id="other"/></Implementation></Activity>
<Activity Id="e" Name="` + esc(end) + `"><Event><EndEvent/></Event></Activity>
</Activities>
<Transitions>
<Transition Id="t1" From="s" To="` + esc(field) + `"/>
<Transition Id="t2" From="` + esc(field) + `" To="g"/>
<Transition Id="t3" From="g" To="b" Name="` + esc(name) + `"><Condition Type="CONDITION">` + esc(cond) + `</Condition></Transition>
<Transition Id="t4" From="g" To="c"><Condition Type="OTHERWISE"/></Transition>
<Transition Id="t5" From="g" To="d" Name="` + esc(end) + `"><Condition Type="CONDITION"><Expression>` + esc(cond) + `</Expression></Condition></Transition>
<Transition Id="t6" From="b" To="` + esc(field) + `"/>
<Transition Id="t7" From="c" To="d"/>
<Transition Id="t8" From="d" To="e"/>
</Transitions>
</WorkflowProcess>
<WorkflowProcess Id="other" Name="` + esc(end) + `"><Activities>
<Activity Id="x" Name="` + esc(name) + `"><Implementation><SubFlow Id="main"/></Implementation></Activity>
<Activity Id="y"><Route GatewayType="` + esc(gateway) + `"/></Activity>
</Activities><Transitions><Transition Id="u" From="x" To="y"/><Transition Id="u2" From="y" To="x"/></Transitions></WorkflowProcess>
</WorkflowProcesses>
</Package>
`
}

// FuzzMap maps well-formed packages whose names, ids, condition, field
// type, gateway type and application id are fuzzed: the mapper never
// panics and always writes service files that load.
func FuzzMap(f *testing.F) {
	f.Add("Nom de l'enfant", "approved", "approved == true", "BOOLEAN", "Exclusive", "cases.open", "Fin")
	f.Add("Étape\n2", "kind", `kind == "Fin"`, "ENUM", "Parallel", "notifyCentre", "Fin")
	f.Add("", "", "", "", "", "", "")
	f.Add("x", "main", "!x", "DATETIME", "Inclusive", "a b", "🙂")
	f.Add("{{ref}}", "s", "other", "STRING", "Complex", "@home", "ç")
	cat, err := menus.Builtin()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, field, cond, typ, gateway, app, end string) {
		data := template(name, field, cond, typ, gateway, app, end)
		p, err := xpdl.Read([]byte(data))
		if err != nil {
			var xe *xpdl.Error
			if !errors.As(err, &xe) || !utf8.ValidString(xe.Msg) {
				t.Fatalf("error %v (%T)", err, err)
			}
			return // a name XML refuses (a control character)
		}
		mapped(t, p, cat, strings.Count(data, "\n")+1)
	})
}

// collaboration is a well-formed package of two pools (the citizen's and
// an office's) that talk through messages, with performers, lanes, a
// loop back into a gateway and fuzzed names for the roles and the steps,
// which become status and message names.
func collaboration(citizen, office, step, step2, lane string) string {
	esc := func(s string) string {
		var b bytes.Buffer
		xml.EscapeText(&b, []byte(strings.ToValidUTF8(s, "?")))
		return b.String()
	}
	return `<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="http://www.wfmc.org/2009/XPDL2.2" Id="p" Name="` + esc(step) + `">
<Participants>
<Participant Id="cit" Name="` + esc(citizen) + `"><ParticipantType Type="HUMAN"/></Participant>
<Participant Id="off" Name="` + esc(office) + `"><ParticipantType Type="ROLE"/></Participant>
</Participants>
<Pools>
<Pool Id="pc" Name="` + esc(citizen) + `" Process="a"><Lanes><Lane Id="l1" Name="` + esc(lane) + `"/></Lanes></Pool>
<Pool Id="po" Name="` + esc(office) + `" Process="b"/>
</Pools>
<MessageFlows>
<MessageFlow Id="m1" Name="` + esc(step2) + `" Source="a3" Target="b1"/>
<MessageFlow Id="m2" Source="b3" Target="a4"/>
</MessageFlows>
<WorkflowProcesses>
<WorkflowProcess Id="a" Name="` + esc(citizen) + `">
<Activities>
<Activity Id="a0"><Event><StartEvent/></Event></Activity>
<Activity Id="a1"><Route GatewayType="Exclusive"/></Activity>
<Activity Id="a2" Name="` + esc(step) + `"><Implementation><No/></Implementation><Performers><Performer>cit</Performer></Performers>
<NodeGraphicsInfos><NodeGraphicsInfo LaneId="l1"/></NodeGraphicsInfos></Activity>
<Activity Id="g"><Route GatewayType="Exclusive"/></Activity>
<Activity Id="a3" Name="` + esc(step2) + `"><Implementation><Task/></Implementation></Activity>
<Activity Id="a4" Name="` + esc(step) + `"><Event><IntermediateEvent Trigger="Message"/></Event></Activity>
<Activity Id="a5" Name="` + esc(step2) + `"><Implementation><No/></Implementation><Performers><Performer>off</Performer></Performers></Activity>
<Activity Id="a6" Name="` + esc(office) + `"><Event><EndEvent/></Event></Activity>
</Activities>
<Transitions>
<Transition Id="t1" From="a0" To="a1"/><Transition Id="t2" From="a1" To="a2"/><Transition Id="t3" From="a2" To="g"/>
<Transition Id="t4" From="g" To="a3" Name="` + esc(step) + `"/><Transition Id="t5" From="g" To="a1" Name="` + esc(step2) + `"/>
<Transition Id="t6" From="a3" To="a4"/><Transition Id="t7" From="a4" To="a5"/><Transition Id="t8" From="a5" To="a6"/>
<Transition Id="t9" From="a5" To="a2"/>
</Transitions>
</WorkflowProcess>
<WorkflowProcess Id="b" Name="` + esc(office) + `">
<Activities>
<Activity Id="b1" Name="` + esc(step2) + `"><Event><StartEvent Trigger="Message"/></Event></Activity>
<Activity Id="b2" Name="` + esc(step) + `"><Implementation><Task/></Implementation></Activity>
<Activity Id="r1"><Route GatewayType="Exclusive"/></Activity>
<Activity Id="r2"><Route GatewayType="Exclusive"/></Activity>
<Activity Id="b3" Name="` + esc(office) + `"><Event><IntermediateEvent Trigger="Message"/></Event></Activity>
<Activity Id="b4" Name="` + esc(step2) + `"><Event><EndEvent/></Event></Activity>
</Activities>
<Transitions>
<Transition Id="u1" From="b1" To="b2"/><Transition Id="u2" From="b2" To="r1"/><Transition Id="u3" From="r1" To="r2"/>
<Transition Id="u4" From="r2" To="r1"/><Transition Id="u5" From="r2" To="b3"/><Transition Id="u6" From="b3" To="b4"/>
</Transitions>
</WorkflowProcess>
</WorkflowProcesses>
</Package>
`
}

// FuzzRoles maps collaborations whose roles and steps are fuzzed: the
// citizen is found or not, the life cycle built or not, and the service
// files always load (a status named like a message included).
func FuzzRoles(f *testing.F) {
	f.Add("Citoyen", "Mairie", "Remplir la demande", "Opened", "Guichet")
	f.Add("Lane", "Pool", "received", "moved", "System")
	f.Add("", "", "", "", "")
	f.Add("x", "x", "booked", "reminder", "x")
	f.Add("Système", "SI", "Transition 2", "Tool 1", "callback")
	cat, err := menus.Builtin()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, citizen, office, step, step2, lane string) {
		data := collaboration(citizen, office, step, step2, lane)
		p, err := xpdl.Read([]byte(data))
		if err != nil {
			return // a name XML refuses
		}
		mapped(t, p, cat, strings.Count(data, "\n")+1)
	})
}
