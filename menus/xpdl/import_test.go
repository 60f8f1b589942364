package xpdl_test

import (
	"bytes"
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
		files     []string          // the service files, all of them
		report    []string          // in the report
		yaml      map[string]string // service file → text it must hold
		notYAML   []string          // in no service file
		notReport []string          // not in the report
	}{
		{
			// Two pools talking through a message: the trader's is the
			// service, the market office's its life cycle.
			file:    "fixture-stall-permit_xpdl2.2.xpdl",
			version: "2.2",
			files:   []string{"commercant.yaml"},
			report: []string{
				`"Main Process": has no activities: no service`,
				`the pool of "Service des marchés", another participant than the citizen's: its steps become the life cycle of the citizen's service`,
				`MessageFlow 7d0e5f7a-1111-4c2b-9e3d-5a6b7c8d9e01 "Dossier de demande": the request goes to another participant's pool: the call ends with cases.open`,
				"gateway with no type: taken as exclusive",
				`catches link "Arriv_x00E9_e_x0020_au_x0020_march_x00E9_" thrown elsewhere`,
				"task of no stated kind (<Task/>)",
				"conditions the file leaves unwritten decide this branch: the caller chooses (node arrivee_au_marche_choice)",
				`names spelt in the GSM-7 alphabet, which screens keep to: "Commerçant" → "Commercant"`,
				"the names are taken to be in French (the file does not say; guessed from their words",
				"written in French alone (languages: [fr])",
			},
			yaml: map[string]string{
				"commercant.yaml": `label: {fr: "Première demande"}`,
			},
			notYAML: []string{"verifier_les_pieces:\n    menu"},
		},
		{
			// What the tries found: a loop back into a gateway, a join of
			// one transition, LoopType None, a process time limit and a
			// message back from the office.
			file:    "fixture-registry-copy_xpdl2.2.xpdl",
			version: "2.2",
			files:   []string{"demande_de_copie_d_acte.yaml"},
			report: []string{
				`Limit of WorkflowProcess rc-app "Demande de copie d'acte": time limit of the whole process: not enforced on the phone`,
				`MessageFlow rc-mf-answer "Copie prête": message from Activity rc-r-notify "Prévenir le demandeur" to Activity rc-a-wait "Attendre la copie": no phone equivalent; the case's statuses and their SMS tell the citizen instead`,
				`MessageFlow rc-mf-request "Demande de copie": the request goes to another participant's pool`,
			},
			notReport: []string{"join", "loop", "Loop of"},
			yaml: map[string]string{
				"demande_de_copie_d_acte.yaml": "      - label: {fr: \"Non, saisir à nouveau\"}\n        next: numero_acte\n",
			},
			notYAML: []string{"loop", "Attendre la copie\"", "received: {fr: \"Déposé\", en: \"Received\", next: [rechercher_l_acte_au_registre, retirer"},
		},
		{
			// Bonita 4: the form's fields are property attributes.
			file:    "fixture-pension-claim_xpdl1.0.xpdl",
			version: "1.0",
			files:   []string{"demande_de_pension.yaml"},
			report:  []string{`the citizen on the phone is taken to be participant "Initiator"`},
			yaml: map[string]string{
				"demande_de_pension.yaml": "    input: {type: text, min: 1, max: 10, save: matricule}",
			},
			notYAML: []string{"decision:\n", "hook", "CheckMatricule"},
		},
		{
			file:    "fixture-birth-declaration_xpdl2.2.xpdl",
			version: "2.2",
			files:   []string{"declaration_de_naissance.yaml"},
			report: []string{
				`the citizen on the phone is taken to be participant "Déclarant", who does the first step after the start; the steps of participant "Registre" become the case's life cycle`,
				"parallel (AND) split: no phone equivalent; the caller goes through the branches one after the other",
				"exclusive split on in_hospital: its conditions test only the answer to node in_hospital",
				"exclusive split on declarant",
				"opens a case (cases.open): the call ends there, and the steps after it become the case's statuses",
				"DATETIME: a date screen",
			},
			yaml: map[string]string{
				"declaration_de_naissance.yaml": "    ask: {fr: \"L'enfant\\nNom de l'enfant ?\", en: \"The child\\nChild's name?\"}\n" +
					"    input: {type: text, min: 1, max: 30, save: child_name}",
			},
			notYAML: []string{"ExternalReference", "PortTypeOperation", "notify_health_centre"},
		},
		{
			file:    "fixture-water-connection_xpdl1.0.xpdl",
			version: "1.0",
			files:   []string{"demande_de_branchement.yaml", "visite_technique.yaml"},
			report: []string{
				"the header says XPDL 2.1 but the namespace is XPDL 1.0's: read as 1.0",
				`Deadline of Activity saisir_demande "Votre demande": no phone equivalent`,
				"exception path (DEFAULTEXCEPTION)",
				"exclusive split on usage",
				"exclusive split on titre_foncier",
				"task with no Implementation",
				`calls process "paiement_mobile", which is not in this file`,
				"its screens are copied here",
				"the workflow decides this branch from the result caution_payee of application verifier_compte, which the caller is not asked: the call ends with cases.open here",
			},
			yaml: map[string]string{
				"demande_de_branchement.yaml": "      - label: {fr: \"domestique\"}\n        next: titre_foncier\n      - label: {fr: \"commercial\"}\n        next: submit",
			},
			notYAML: []string{"debut", "JaWE", "verifier_compte"},
		},
		{
			file:    "fixture-residence-certificate_xpdl2.2.xpdl",
			version: "2.2",
			files:   []string{"certificat_de_residence.yaml"},
			report:  []string{"task with no Implementation with no data field to fill", `Activity 533 "Payez le timbre communal de 500 FCFA"`},
			notYAML: []string{`end: {fr: "EndEvent3"`, "Revision", "ModelOwner", "statuses:"},
			yaml: map[string]string{
				"certificat_de_residence.yaml": `menu: {fr: "Faites signer la fiche par deux témoins du quartier"}` + "\n" +
					"    options:\n      - label: {fr: \"Continuer\", en: \"Continue\"}\n        next: payez_le_timbre_communal_de_50\n",
			},
		},
		{
			file:    "fixture-business-registration_xpdl2.0.xpdl",
			version: "2.0",
			files:   []string{"immatriculer_une_entreprise.yaml"},
			report: []string{
				"inclusive (OR) split", "complex split", "complex join", "event-based split",
				"loop: no phone equivalent", "transaction: no phone equivalent", "BlockActivity",
				`timer event attached to activity "saisie"`, "end event with result Error",
				"(recursion)", "whose branches do not meet at one join",
				"(Python) is not evaluated", "assignments are not computed",
				`comes from "nulle_part"`, `leads to "ailleurs"`, "a list (IsArray)",
				"type RecordType has no screen of its own", "an enumeration with no values",
				"Length 300 is more than a phone sends",
				"automatic step (registerCompany) that no operation of the gateway does: the back office's systems do it, not the call; passed through",
			},
			notYAML: []string{"action: register_company"},
		},
		{
			// Each reviewer is a participant: the author is the caller,
			// the reviews the case's statuses.
			file:    "zope-wfmc_publication_xpdl1.0.xpdl",
			version: "1.0",
			files:   []string{"publication.yaml"},
			report: []string{
				`the citizen on the phone is taken to be participant "Author", who does the first step after the start`,
				"the names are taken to be in English",
			},
			yaml: map[string]string{
				"publication.yaml": "  technical_review_1: {en: \"Technical Review 1\", next: [editorial_review]}",
			},
			notYAML: []string{"  start:\n", "action: tech_review"},
		},
		{
			file:    "shoobx-wfmc_publication_xpdl2.1.xpdl",
			version: "2.1",
			files:   []string{"publication.yaml"},
			report:  []string{"the header says XPDL 1.0 but the namespace is XPDL 2.1's"},
			yaml: map[string]string{
				"publication.yaml": "  editorial_review: {en: \"Editorial Review\", next: [prepare, final_preparation, done]}",
			},
			notYAML: []string{"editorial_review_choice"},
		},
		{
			file:    "shoobx-wfmc_subflow_xpdl2.1.xpdl",
			version: "2.1",
			files:   []string{"main_flow.yaml", "sub_flow.yaml", "inner_subflow.yaml"},
			report:  []string{`done by the citizen through application output`},
			yaml: map[string]string{
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
			var names []string
			for _, f := range res.Files {
				files[f.Name] = string(f.YAML)
				names = append(names, f.Name)
			}
			if !slices.Equal(names, tt.files) {
				t.Errorf("service files %v, want %v", names, tt.files)
			}
			// Every service runs as imported: menus check has nothing
			// to say, no unknown operation nor missing translation.
			for _, sr := range res.Report.Services {
				if len(sr.Check) > 0 {
					t.Errorf("menus check will report about %s: %v", sr.File, sr.Check)
				}
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

// TestCitizenAndMap: --citizen names who is on the phone, --map turns an
// application into a served operation; both refuse what does not exist.
func TestCitizenAndMap(t *testing.T) {
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	pub := read("zope-wfmc_publication_xpdl1.0.xpdl")
	for _, tt := range []struct {
		name    string
		data    []byte
		opts    xpdl.Options
		err     string
		report  string
		yaml    []string
		notYAML []string
	}{
		{
			name:    "the editor on the phone: the author's step hands off at once",
			data:    pub,
			opts:    xpdl.Options{Citizen: "editorial reviewer"},
			report:  `the citizen on the phone is participant "Editorial Reviewer" (--citizen)`,
			yaml:    []string{"start: submit", "  prepare: {en: \"Prepare\""},
			notYAML: []string{"  prepare:\n    menu"},
		},
		{
			name: "nobody of that name",
			data: pub,
			opts: xpdl.Options{Citizen: "Reader"},
			err:  `--citizen "Reader": process "Publication" has no participant, lane or pool of that name or id (it has "Author", "Technical Reviewer 1"`,
		},
		{
			name:   "an application mapped to cases.open: the case opens there",
			data:   read("fixture-business-registration_xpdl2.0.xpdl"),
			opts:   xpdl.Options{Map: map[string]string{"registerCompany": "cases.open"}},
			report: "opens a case (cases.open): the call ends there",
			yaml:   []string{"action: cases.open", "statuses:\n"},
		},
		{
			name: "mapped to what the gateway does not serve",
			data: pub,
			opts: xpdl.Options{Map: map[string]string{"prepare": "cases.publish"}},
			err:  `--map prepare=cases.publish: "cases.publish" is not an operation the gateway serves`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Operations = cases.Operations
			res, err := xpdl.Import(tt.data, tt.opts)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r := res.Report.String(); !strings.Contains(r, tt.report) {
				t.Errorf("the report does not say %q:\n%s", tt.report, r)
			}
			y := string(res.Files[0].YAML)
			for _, w := range tt.yaml {
				if !strings.Contains(y, w) {
					t.Errorf("no %q in:\n%s", w, y)
				}
			}
			for _, w := range tt.notYAML {
				if strings.Contains(y, w) {
					t.Errorf("%q in:\n%s", w, y)
				}
			}
			for _, sr := range res.Report.Services {
				if len(sr.Check) > 0 {
					t.Errorf("menus check will report about %s: %v", sr.File, sr.Check)
				}
			}
		})
	}
}

// TestLoopsAndReservedNames: two gateways that lead to each other end the
// call where they loop, whichever branch enters them (no placeholder is
// left in the file); steps named like the service's messages get statuses
// of their own names.
func TestLoopsAndReservedNames(t *testing.T) {
	loop := `<Package xmlns="http://www.wfmc.org/2009/XPDL2.2" Id="p" Name="Demande"><WorkflowProcesses>
<WorkflowProcess Id="main" Name="Demande de test"><Activities>
<Activity Id="s"><Event><StartEvent/></Event></Activity>
<Activity Id="m" Name="Choisir le type"><Implementation><No/></Implementation></Activity>
<Activity Id="g"><Route GatewayType="Exclusive"/></Activity>
<Activity Id="r1"><Route GatewayType="Exclusive"/></Activity>
<Activity Id="r2"><Route GatewayType="Exclusive"/></Activity>
</Activities><Transitions>
<Transition Id="t1" From="s" To="m"/><Transition Id="t2" From="m" To="g"/>
<Transition Id="t3" From="g" To="r1" Name="Premier"/><Transition Id="t4" From="g" To="r2" Name="Second"/>
<Transition Id="t5" From="r1" To="r2"/><Transition Id="t6" From="r2" To="r1"/>
</Transitions></WorkflowProcess></WorkflowProcesses></Package>`
	named := `<Package xmlns="http://www.wfmc.org/2009/XPDL2.2" Id="p" Name="Demande">
<Participants><Participant Id="cit" Name="Citoyen"/><Participant Id="off" Name="Mairie"/></Participants>
<WorkflowProcesses><WorkflowProcess Id="main" Name="Demande de test"><Activities>
<Activity Id="s"><Event><StartEvent/></Event></Activity>
<Activity Id="m" Name="Remplir la demande"><Implementation><No/></Implementation><Performers><Performer>cit</Performer></Performers></Activity>
<Activity Id="o" Name="Opened"><Implementation><No/></Implementation><Performers><Performer>off</Performer></Performers></Activity>
<Activity Id="v" Name="Moved"><Implementation><No/></Implementation><Performers><Performer>off</Performer></Performers></Activity>
<Activity Id="e"><Event><EndEvent/></Event></Activity>
</Activities><Transitions>
<Transition Id="t1" From="s" To="m"/><Transition Id="t2" From="m" To="o"/><Transition Id="t3" From="o" To="v"/><Transition Id="t4" From="v" To="e"/>
</Transitions></WorkflowProcess></WorkflowProcesses></Package>`
	for _, tt := range []struct {
		name, data string
		yaml       []string
	}{
		{"gateways looping", loop, []string{"next: loop\n", "  loop:\n    end:"}},
		{"steps named like messages", named, []string{"  opened_2: {fr: \"Opened\", next: [moved_2]}", "  opened: {fr: \"Dossier {{ref}} enregistré.\""}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := xpdl.Import([]byte(tt.data), xpdl.Options{Operations: cases.Operations})
			if err != nil {
				t.Fatal(err)
			}
			y := res.Files[0].YAML
			if _, err := menus.ParseService("x.yaml", y); err != nil || bytes.ContainsRune(y, 0) {
				t.Fatalf("the file does not load (%v):\n%s", err, y)
			}
			for _, w := range tt.yaml {
				if !strings.Contains(string(y), w) {
					t.Errorf("no %q in:\n%s", w, y)
				}
			}
		})
	}
}
