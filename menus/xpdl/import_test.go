package xpdl_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/menus/xpdl"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/want and testdata/broken_*/want.txt with what the importer produces")

// golden compares got with the file, or rewrites the file under -update.
func golden(t *testing.T, file string, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it: review the diff)\n%s", file, firstDiff(string(want), got))
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n  want " + wl + "\n  got  " + gl
		}
	}
	return "(no difference)"
}

// inputs lists the XPDL files of testdata: the three samples and the
// fixtures.
func inputs(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join("testdata", "*.xpdl"))
	if err != nil || len(files) < 8 {
		t.Fatalf("expected the 3 samples and 5 fixtures in testdata, found %v (%v)", files, err)
	}
	return files
}

func importFile(t *testing.T, file string) *xpdl.Result {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	res, err := xpdl.Import(data, xpdl.Options{File: filepath.Base(file), Operations: cases.Operations})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return res
}

// TestImport imports every file of testdata and compares the service files
// and the report with testdata/want/NAME/. Each service file must load
// with menus.ParseService, and every line of the report must name an XPDL
// line.
func TestImport(t *testing.T) {
	for _, file := range inputs(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".xpdl")
		t.Run(name, func(t *testing.T) {
			res := importFile(t, file)
			dir := filepath.Join("testdata", "want", name)
			if *update {
				os.RemoveAll(dir)
			}
			golden(t, filepath.Join(dir, "report.txt"), res.Report.String())
			var names []string
			for _, f := range res.Files {
				names = append(names, f.Name)
				golden(t, filepath.Join(dir, f.Name), string(f.YAML))
				if _, err := menus.ParseService(f.Name, f.YAML); err != nil {
					t.Errorf("%s does not load: %v", f.Name, err)
				}
			}
			if !*update {
				entries, _ := os.ReadDir(dir)
				for _, e := range entries {
					if e.Name() != "report.txt" && !slices.Contains(names, e.Name()) {
						t.Errorf("%s/%s is no longer written (go test -update removes it)", dir, e.Name())
					}
				}
			}
			for _, s := range res.Report.Services {
				for _, list := range [][]xpdl.Item{s.Unmapped, s.Review, s.Check} {
					for _, it := range list {
						if it.Line <= 0 || it.Element == "" || it.Msg == "" {
							t.Errorf("report item without a line, an element or a message: %+v", it)
						}
					}
				}
			}
		})
	}
}

// TestReportMatchesCheck writes each import into a copy of the built-in
// catalogue that lists its services, loads the folder and checks it the
// way `guichet menus check` does: the problems about the imported files
// must be exactly those the report announces, no more, no fewer.
func TestReportMatchesCheck(t *testing.T) {
	for _, file := range inputs(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".xpdl")
		t.Run(name, func(t *testing.T) {
			res := importFile(t, file)
			dir := catalogueWith(t, res.Files)
			cat, err := menus.Load(os.DirFS(dir), ".")
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			imported := map[string]bool{}
			for _, f := range res.Files {
				imported[f.Name] = true
			}
			var got []string
			for _, p := range menus.Check(cat, cases.Operations, menus.DefaultLimit) {
				if !imported[p.File] {
					t.Errorf("a problem outside the imported files: %v", p)
					continue
				}
				got = append(got, p.File+": "+p.Msg)
			}
			var want []string
			for _, s := range res.Report.Services {
				for _, it := range s.Check {
					want = append(want, s.File+": "+it.Msg)
				}
			}
			sort.Strings(got)
			sort.Strings(want)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("menus check reports:\n%s\nthe import's report announces:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// catalogueWith copies the built-in catalogue into a temporary folder,
// adds the files and lists their services on the home menu.
func catalogueWith(t *testing.T, files []xpdl.File) string {
	t.Helper()
	dir := t.TempDir()
	builtin, err := filepath.Glob(filepath.Join("..", "catalogue", "*.yaml"))
	if err != nil || len(builtin) == 0 {
		t.Fatalf("no built-in catalogue: %v", err)
	}
	var ids []string
	for _, f := range files {
		ids = append(ids, f.Service)
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.YAML, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range builtin {
		data, err := os.ReadFile(b)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(b) == menus.CatalogueFile {
			data = addServices(t, data, ids)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(b)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var servicesLine = regexp.MustCompile(`(?m)^services: \[(.*)\]$`)

func addServices(t *testing.T, catalogue []byte, ids []string) []byte {
	t.Helper()
	if !servicesLine.Match(catalogue) {
		t.Fatal("catalogue.yaml has no services: [...] line")
	}
	return servicesLine.ReplaceAll(catalogue, []byte("services: [$1, "+strings.Join(ids, ", ")+"]"))
}

// TestQuirks holds each fixture and sample to what its editor's quirks
// must give, whatever the golden files say.
func TestQuirks(t *testing.T) {
	tests := []struct {
		file      string
		version   string
		report    []string          // in the report
		yaml      map[string]string // service file → text it must hold
		notYAML   []string          // in no service file
		notReport []string          // not in the report
	}{
		{
			file:    "fixture-stall-permit_xpdl2.2.xpdl",
			version: "2.2",
			report: []string{
				`"Main Process": has no activities: no service`,
				"gateway with no type: taken as exclusive",
				"timer event: no phone equivalent",
				`throws link "Vers_x0020_le_x0020_stand", which nothing in this process catches`,
				`catches link "Arriv_x00E9_e_x0020_au_x0020_march_x00E9_" thrown elsewhere`,
				"task of no stated kind (<Task/>)",
				"start event triggered by Message",
				"no phone equivalent: no condition decides this branch",
				`names spelt in the GSM-7 alphabet, which screens keep to: "Commerçant" → "Commercant"`,
				"decides this branch from a timer that runs out after the call",
				"end the call with cases.open and move the case through statuses:",
			},
			yaml: map[string]string{
				"commercant.yaml":          `label: {fr: "Première demande"}`,
				"service_des_marches.yaml": `start: verifier_les_pieces`,
			},
		},
		{
			file:    "fixture-birth-declaration_xpdl2.2.xpdl",
			version: "2.2",
			report: []string{
				"parallel (AND) split: no phone equivalent; the caller goes through the branches one after the other",
				"parallel (AND) join",
				"exclusive split on in_hospital: its conditions test only the answer to node in_hospital",
				"exclusive split on declarant",
				`node informer_le_centre_de_sante: unknown operation "notify_health_centre" [adapter]`,
				"message event: no phone equivalent",
				"DATETIME: a date screen",
			},
			notReport: []string{`unknown operation "cases.open"`},
			yaml: map[string]string{
				"declaration_de_naissance.yaml": "    ask: {fr: \"L'enfant\\nNom de l'enfant ?\", en: \"The child\\nChild's name?\"}\n" +
					"    input: {type: text, min: 1, max: 30, save: child_name}",
			},
			notYAML: []string{"ExternalReference", "PortTypeOperation"},
		},
		{
			file:    "fixture-water-connection_xpdl1.0.xpdl",
			version: "1.0",
			report: []string{
				"the header says XPDL 2.1 but the namespace is XPDL 1.0's: read as 1.0",
				`Deadline of Activity saisir_demande "Votre demande": no phone equivalent`,
				"condition `caution_payee == true && personnes > 0` (JavaScript) is not evaluated",
				"exception path (DEFAULTEXCEPTION)",
				"exclusive split on usage",
				"exclusive split on titre_foncier",
				"task with no Implementation",
				`calls process "paiement_mobile", which is not in this file`,
				`calls "visite_technique" last: a link to its service @visite_technique`,
				"its screens are copied here",
				"decides this branch from the result caution_payee of application verifier_compte, which the caller is not asked",
			},
			yaml: map[string]string{
				"demande_de_branchement.yaml": "      - label: {fr: \"domestique\"}\n        next: titre_foncier\n      - label: {fr: \"commercial\"}\n        next: verifier_le_compte",
			},
			notYAML: []string{"debut", "JaWE"},
		},
		{
			file:    "fixture-residence-certificate_xpdl2.2.xpdl",
			version: "2.2",
			report:  []string{"task with no Implementation with no data field to fill", `Activity 533 "Payez le timbre communal de 500 FCFA"`},
			notYAML: []string{`end: {fr: "EndEvent3"`, "Revision", "ModelOwner"},
			yaml: map[string]string{
				"certificat_de_residence.yaml": `menu: {fr: "Faites signer la fiche par deux témoins du quartier"}` + "\n" +
					"    options:\n      - label: {fr: \"Continuer\", en: \"Continue\"}\n        next: payez_le_timbre_communal_de_50\n",
			},
		},
		{
			file:    "fixture-business-registration_xpdl2.0.xpdl",
			version: "2.0",
			report: []string{
				"inclusive (OR) split", "complex split", "complex join", "event-based split",
				"loop: no phone equivalent", "transaction: no phone equivalent", "BlockActivity",
				`timer event attached to activity "saisie"`, "end event with result Error",
				"script task", "(recursion)", "whose branches do not meet at one join",
				"(Python) is not evaluated", "assignments are not computed",
				`comes from "nulle_part"`, `leads to "ailleurs"`, "a list (IsArray)",
				"type RecordType has no screen of its own", "an enumeration with no values",
				"Length 300 is more than a phone sends",
			},
			yaml: map[string]string{
				"immatriculer_une_entreprise.yaml": `action: register_company`,
			},
		},
		{
			file:    "zope-wfmc_publication_xpdl1.0.xpdl",
			version: "1.0",
			report:  []string{`"Technical Review 1", then "Technical Review 2"`, "condition `not publish` is not evaluated"},
			yaml: map[string]string{
				"publication.yaml": "  technical_review_1:\n    action: tech_review\n    next: technical_review_2",
			},
			notYAML: []string{"  start:\n"},
		},
		{
			file:    "shoobx-wfmc_publication_xpdl2.1.xpdl",
			version: "2.1",
			report:  []string{"the header says XPDL 1.0 but the namespace is XPDL 2.1's"},
			yaml: map[string]string{
				"publication.yaml": "  editorial_review_choice:\n    menu: {fr: \"Editorial Review\"}",
			},
		},
		{
			file:    "shoobx-wfmc_subflow_xpdl2.1.xpdl",
			version: "2.1",
			report:  []string{`calls "subflow" and goes on after it: its screens are copied here`},
			yaml: map[string]string{
				"main_flow.yaml":     "sub_flow-inner_subf",
				"inner_subflow.yaml": "start: first_innerflow_activity",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res := importFile(t, filepath.Join("testdata", tt.file))
			if res.Package.Version != tt.version {
				t.Errorf("version %q, want %q", res.Package.Version, tt.version)
			}
			report := res.Report.String()
			for _, s := range tt.report {
				if !strings.Contains(report, s) {
					t.Errorf("the report does not say %q:\n%s", s, report)
				}
			}
			files := map[string]string{}
			for _, f := range res.Files {
				files[f.Name] = string(f.YAML)
			}
			for name, s := range tt.yaml {
				if !strings.Contains(files[name], s) {
					t.Errorf("%s does not hold %q:\n%s", name, s, files[name])
				}
			}
			for _, s := range tt.notYAML {
				for name, y := range files {
					if strings.Contains(y, s) {
						t.Errorf("%s holds %q", name, s)
					}
				}
			}
			for _, s := range tt.notReport {
				if strings.Contains(report, s) {
					t.Errorf("the report holds %q", s)
				}
			}
		})
	}
}

// TestBroken reads each testdata/broken_*/input.xpdl, which must fail with
// the error (and, when the file was read, the report) in want.txt.
func TestBroken(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "broken_*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no testdata/broken_* folders (%v)", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, "input.xpdl"))
			if err != nil {
				t.Fatal(err)
			}
			res, err := xpdl.Import(data, xpdl.Options{File: "input.xpdl", Operations: cases.Operations})
			if err == nil {
				t.Fatalf("imported %d services: not broken", len(res.Files))
			}
			var xe *xpdl.Error
			got := "error: " + err.Error() + "\n"
			switch {
			case errors.As(err, &xe):
				if res != nil {
					t.Error("a read error with a result")
				}
			case errors.Is(err, xpdl.ErrNothing):
				if res == nil || len(res.Files) != 0 {
					t.Fatal("ErrNothing without a report, or with files")
				}
				got += res.Report.String()
			default:
				t.Errorf("error %v (%T) is neither an *xpdl.Error nor ErrNothing", err, err)
			}
			golden(t, filepath.Join(dir, "want.txt"), got)
		})
	}
}

// TestService names the main process's service and refuses a name the
// menu language would not take.
func TestService(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "shoobx-wfmc_subflow_xpdl2.1.xpdl"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		service string
		ids     []string
		err     string
	}{
		{"", []string{"main_flow", "sub_flow", "inner_subflow"}, ""},
		{"demo", []string{"demo", "sub_flow", "inner_subflow"}, ""},
		{"sub_flow", []string{"sub_flow", "sub_flow-2", "inner_subflow"}, ""},
		{"Demo!", nil, `--service "Demo!": not a service name`},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			res, err := xpdl.Import(data, xpdl.Options{Service: tt.service, Operations: cases.Operations})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, f := range res.Files {
				ids = append(ids, f.Service)
			}
			if !slices.Equal(ids, tt.ids) {
				t.Errorf("services %v, want %v", ids, tt.ids)
			}
		})
	}
}

// TestFixturesAreOwnText guards the licensing of the fixtures written for
// Guichet: they imitate editors' quirks but copy nothing from the
// copyleft files studied (no layout, no editor build strings, none of the
// Global 360 sample's ids).
func TestFixturesAreOwnText(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "fixture-*.xpdl"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"SketchpadBPMN", "PageInfo", "PixelsPerMillimeter", "G360_PMAE"} {
			if strings.Contains(string(data), s) {
				t.Errorf("%s holds %q, copied from a study-only file", file, s)
			}
		}
	}
	data, err := os.ReadFile(filepath.Join("testdata", "fixture-residence-certificate_xpdl2.2.xpdl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{`Id="4"`, `Id="8"`, `Id="10"`, `Id="11"`, `Id="38"`, `Id="39"`, `Id="40"`, "Coordinates"} {
		if strings.Contains(string(data), id) {
			t.Errorf("fixture-residence-certificate holds %s, as the study-only Global 360 sample does", id)
		}
	}
}
