package xpdl_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf16"

	"golang.org/x/text/encoding/charmap"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus/xpdl"
)

// pkg is a small package in namespace ns whose one process has a start
// event on line 5, an activity named name on line 6 and a transition on
// line 7.
func pkg(ns, header, name string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="` + ns + `" Id="p" Name="Paquet">
<PackageHeader><XPDLVersion>` + header + `</XPDLVersion></PackageHeader>
<WorkflowProcesses><WorkflowProcess Id="w" Name="Démarche"><Activities>
<Activity Id="s"><Event><StartEvent/></Event></Activity>
<Activity Id="a" Name="` + name + `"><Implementation><No/></Implementation></Activity>
</Activities><Transitions><Transition Id="t" From="s" To="a"/></Transitions></WorkflowProcess></WorkflowProcesses>
</Package>
`
}

// TestRead tells versions from namespaces, whatever the header says, and
// gives each element the line of its start tag.
func TestRead(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		version string
		header  string
		lang    string
	}{
		{"1.0", pkg("http://www.wfmc.org/2002/XPDL1.0", "1.0", "Étape"), "1.0", "1.0", ""},
		{"2.0", pkg("http://www.wfmc.org/2004/XPDL2.0alpha", "2.0", "Étape"), "2.0", "2.0", ""},
		{"2.1 whose header says 1.0", pkg("http://www.wfmc.org/2008/XPDL2.1", "1.0", "Étape"), "2.1", "1.0", ""},
		{"2.2", pkg("http://www.wfmc.org/2009/XPDL2.2", "2.2", "Étape"), "2.2", "2.2", ""},
		{"a trailing slash and https", pkg("https://www.wfmc.org/2009/XPDL2.2/", "2.2", "Étape"), "2.2", "2.2", ""},
		{"no namespace, read by the header", pkg("", "2.1", "Étape"), "2.1", "2.1", ""},
		{"CRLF line ends", strings.ReplaceAll(pkg("http://www.wfmc.org/2009/XPDL2.2", "2.2", "Étape"), "\n", "\r\n"), "2.2", "2.2", ""},
		{"a byte order mark", "\xef\xbb\xbf" + pkg("http://www.wfmc.org/2009/XPDL2.2", "2.2", "Étape"), "2.2", "2.2", ""},
		{"UTF-16", utf16BOM(pkg("http://www.wfmc.org/2008/XPDL2.1", "2.1", "Étape")), "2.1", "2.1", ""},
		{"ISO-8859-1", latin1(strings.Replace(pkg("http://www.wfmc.org/2002/XPDL1.0", "1.0", "Étape"), "UTF-8", "ISO-8859-1", 1)), "1.0", "1.0", ""},
		{"a vendor's language", strings.Replace(pkg("http://www.wfmc.org/2009/XPDL2.2", "2.2", "Étape"),
			`<PackageHeader>`, `<PackageHeader xmlns:x="urn:vendor" x:Language="en_US">`, 1), "2.2", "2.2", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := xpdl.Read([]byte(tt.data))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if p.Version != tt.version || p.HeaderVersion != tt.header || p.Lang != tt.lang {
				t.Errorf("version %q, header %q, language %q; want %q, %q, %q", p.Version, p.HeaderVersion, p.Lang, tt.version, tt.header, tt.lang)
			}
			if len(p.Processes) != 1 || len(p.Processes[0].Activities) != 2 {
				t.Fatalf("processes %+v", p.Processes)
			}
			a := p.Processes[0].Activities[1]
			if a.Line != 6 || a.Name != "Étape" || p.Processes[0].Line != 4 || p.Processes[0].Transitions[0].Line != 7 {
				t.Errorf("activity %q at line %d, process at %d, transition at %d; want \"Étape\" at 6, 4 and 7",
					a.Name, a.Line, p.Processes[0].Line, p.Processes[0].Transitions[0].Line)
			}
		})
	}
}

func utf16BOM(s string) string {
	s = strings.Replace(s, "UTF-8", "UTF-16", 1)
	var b bytes.Buffer
	b.Write([]byte{0xFF, 0xFE})
	for _, u := range utf16.Encode([]rune(s)) {
		b.WriteByte(byte(u))
		b.WriteByte(byte(u >> 8))
	}
	return b.String()
}

func latin1(s string) string {
	out, err := charmap.ISO8859_1.NewEncoder().String(s)
	if err != nil {
		panic(err)
	}
	return out
}

// TestVendorNames holds the reader to XPDL's own elements and attributes:
// a vendor's element or attribute with an XPDL name is not XPDL's, except
// a DisplayName, which is a label.
func TestVendorNames(t *testing.T) {
	data := `<Package xmlns="http://www.wfmc.org/2009/XPDL2.2" xmlns:v="urn:vendor" Id="p">
<DataFields>
  <DataField Id="f1"><DataType><v:ExternalReference location="x.xsd"/><BasicType Type="INTEGER"/></DataType></DataField>
  <DataField Id="f2" v:Name="vendor name"><DataType><v:BasicType Type="BOOLEAN"/><BasicType Type="DATE"/></DataType></DataField>
</DataFields>
<WorkflowProcesses><WorkflowProcess Id="w" Name="Technical" v:DisplayName="Readable">
<Activities>
  <Activity Id="a"><v:Route/><Implementation><v:No/><Task><TaskUser/></Task></Implementation></Activity>
  <v:Activity Id="b"/>
</Activities>
</WorkflowProcess></WorkflowProcesses>
</Package>`
	res, err := xpdl.Import([]byte(data), xpdl.Options{Operations: cases.Operations})
	if err != nil {
		t.Fatal(err)
	}
	pr := res.Package.Processes[0]
	if pr.Label[""] != "Readable" {
		t.Errorf("process label %q, want the vendor's DisplayName", pr.Label[""])
	}
	if len(pr.Activities) != 1 || pr.Activities[0].How != "TaskUser" {
		t.Errorf("activities %+v: want one TaskUser", pr.Activities)
	}
	y := string(res.Files[0].YAML)
	if !strings.Contains(y, `title: {fr: "Readable"}`) {
		t.Errorf("the title is not the DisplayName:\n%s", y)
	}

	// A vendor that says its names are English, or xml:lang: they are the
	// English texts, not the French ones, and the service is in English.
	for _, header := range []string{`<PackageHeader v:Language="en_GB"/>`, ``} {
		en := strings.Replace(data, `Id="p">`, `Id="p">`+header, 1)
		if header == "" {
			en = strings.Replace(data, `<Package `, `<Package xml:lang="en-US" `, 1)
		}
		res, err = xpdl.Import([]byte(en), xpdl.Options{Operations: cases.Operations})
		if err != nil {
			t.Fatal(err)
		}
		if y := string(res.Files[0].YAML); !strings.Contains(y, `title: {en: "Readable"}`) || !strings.Contains(y, "languages: [en]") {
			t.Errorf("English names are not the English texts of a service in English:\n%s", y)
		}
		if r := res.Report.String(); !strings.Contains(r, "the names are in English, as") {
			t.Errorf("the report does not say the names are English:\n%s", r)
		}
	}
}

// TestLines holds errors to the line where reading stopped.
func TestLines(t *testing.T) {
	tests := []struct {
		name, data string
		line       int
	}{
		{"unclosed on line 3", "<Package xmlns='http://www.wfmc.org/2009/XPDL2.2'>\n<WorkflowProcesses>\n<WorkflowProcess Id='w'>\n", 4},
		{"bad attribute on line 2", "<Package xmlns='http://www.wfmc.org/2009/XPDL2.2'>\n<PackageHeader a=b/>\n</Package>", 2},
		{"CRLF, bad on line 3", "<Package xmlns='http://www.wfmc.org/2009/XPDL2.2'>\r\n<a>\r\n</b>\r\n</Package>", 3},
		{"not UTF-8 on line 2", "<Package>\n<a n='\xff'/>\n</Package>", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := xpdl.Read([]byte(tt.data))
			var xe *xpdl.Error
			if !errors.As(err, &xe) {
				t.Fatalf("error %v (%T), want an *xpdl.Error", err, err)
			}
			if xe.Line != tt.line {
				t.Errorf("line %d, want %d (%v)", xe.Line, tt.line, err)
			}
		})
	}
}
