package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/guichet/guichet/cases"
)

// The samples the importer's tests keep (ZPL-2.1, see their README).
const (
	publicationSample = "../../menus/xpdl/testdata/shoobx-wfmc_publication_xpdl2.1.xpdl"
	subflowSample     = "../../menus/xpdl/testdata/shoobx-wfmc_subflow_xpdl2.1.xpdl"
)

func runGuichet(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out strings.Builder
	err := run(context.Background(), args, strings.NewReader(""), &out, io.Discard, func(string) string { return "" })
	return out.String(), err
}

// TestImportXPDLCommand runs `guichet menus import-xpdl` the ways an
// administration would.
func TestImportXPDLCommand(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.xpdl")
	if err := writeFile(broken, "<Package xmlns='http://www.wfmc.org/2009/XPDL2.2'>\n<WorkflowProcesses>\n"); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.xpdl")
	if err := writeFile(empty, "<Package xmlns='http://www.wfmc.org/2009/XPDL2.2' Name='Vide'><WorkflowProcesses><WorkflowProcess Id='p' Name='Rien'/></WorkflowProcesses></Package>"); err != nil {
		t.Fatal(err)
	}
	// The sub-process comes before the main process in the file.
	subFirst := filepath.Join(dir, "subfirst.xpdl")
	if err := writeFile(subFirst, `<Package xmlns='http://www.wfmc.org/2009/XPDL2.2' Name='Mairie'><WorkflowProcesses>
<WorkflowProcess Id='sous' Name='Sous'><Activities><Activity Id='x' Name='Payer le timbre'/></Activities></WorkflowProcess>
<WorkflowProcess Id='principal' Name='Principal'><Activities>
<Activity Id='a' Name='Remplir la fiche'/>
<Activity Id='b'><Implementation><SubFlow Id='sous'/></Implementation></Activity>
</Activities><Transitions><Transition Id='t' From='a' To='b'/></Transitions></WorkflowProcess>
</WorkflowProcesses></Package>`); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		files   map[string]string // written under the test's folder, with text they hold
		out     []string          // on standard output
		wantErr string
	}{
		{name: "the main service to the file, declared after its sub-process", args: []string{"--out", "{dir}/f/demarche.yaml", subFirst},
			files: map[string]string{"f/demarche.yaml": "service: principal\n", "f/sous.yaml": "service: sous\n"},
			out:   []string{"wrote {dir}/f/demarche.yaml", "wrote {dir}/f/sous.yaml"}},
		{name: "not twice the same file", args: []string{"--out", "{dir}/f/demarche.yaml", subFirst},
			wantErr: "demarche.yaml, {dir}/f/sous.yaml already exist(s): nothing written; --force overwrites"},
		{name: "twice with --force", args: []string{"--force", "--out", "{dir}/f/demarche.yaml", subFirst},
			files: map[string]string{"f/demarche.yaml": "service: principal\n", "f/sous.yaml": "service: sous\n"}},
		{name: "not two services to one path", args: []string{"--out", "{dir}/g/sous.yaml", subFirst},
			wantErr: "services principal and sous would both be written to {dir}/g/sous.yaml"},
		{name: "to a folder", args: []string{"--out", "{dir}/a", publicationSample},
			files: map[string]string{"a/publication.yaml": "service: publication\n"},
			out:   []string{"XPDL 2.1", "menus check (limit 182) will report", `unknown operation "prepare" [adapter]`, "wrote {dir}/a/publication.yaml"}},
		{name: "to a file, the others beside it", args: []string{"--out", "{dir}/b/main.yaml", subflowSample},
			files: map[string]string{"b/main.yaml": "service: main_flow\n", "b/sub_flow.yaml": "service: sub_flow\n", "b/inner_subflow.yaml": ""},
			out:   []string{"wrote {dir}/b/main.yaml", "wrote {dir}/b/sub_flow.yaml"}},
		{name: "named, flags after the file", args: []string{subflowSample, "--out", "{dir}/c", "--service", "demo"},
			files: map[string]string{"c/demo.yaml": "service: demo\n"}, out: []string{"service demo (demo.yaml)"}},
		{name: "to standard output", args: []string{publicationSample},
			out: []string{"# " + publicationSample + ": XPDL 2.1", "\n---\n# file: publication.yaml\n", "\nservice: publication\n"}},
		{name: "a 160 limit", args: []string{"--limit", "160", publicationSample}, out: []string{"menus check (limit 160)"}},
		{name: "not XPDL", args: []string{broken}, wantErr: "broken.xpdl: line 3: not well-formed XML: unexpected EOF"},
		{name: "nothing usable", args: []string{"--out", "{dir}/d", empty}, wantErr: "nothing usable came out",
			out: []string{`WorkflowProcess p "Rien": has no activities: no service`}},
		{name: "no file", args: []string{"--out", "{dir}/e"}, wantErr: "usage: guichet menus import-xpdl"},
		{name: "a missing file", args: []string{"{dir}/none.xpdl"}, wantErr: "none.xpdl: no such file"},
		{name: "a bad service name", args: []string{"--service", "Bad Name", publicationSample}, wantErr: `--service "Bad Name": not a service name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"menus", "import-xpdl"}
			for _, a := range tt.args {
				args = append(args, strings.ReplaceAll(a, "{dir}", dir))
			}
			out, err := runGuichet(t, args...)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error %v\n%s", err, out)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), strings.ReplaceAll(tt.wantErr, "{dir}", dir))):
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			for _, s := range tt.out {
				if s = strings.ReplaceAll(s, "{dir}", dir); !strings.Contains(out, s) {
					t.Errorf("the output does not hold %q:\n%s", s, out)
				}
			}
			for f, want := range tt.files {
				data, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Errorf("%s not written: %v", f, err)
				} else if !strings.Contains(string(data), want) {
					t.Errorf("%s does not hold %q:\n%s", f, want, data)
				}
			}
		})
	}
}

// checkItem is a line of the report's "menus check will report" part.
var checkItem = regexp.MustCompile(`(?m)^    line \d+, .*\[[a-z0-9]+\]$`)

// TestImportedServiceDialogue goes from an XPDL sample to a live menu, as
// the README tells an administration to: import it into a menu folder,
// see menus check refuse it for exactly the reasons the report gave, make
// the edits the report asks for, see the check pass, serve the folder and
// play dialogues through the gateway to an end screen.
func TestImportedServiceDialogue(t *testing.T) {
	dir := t.TempDir()
	report, err := runGuichet(t, "menus", "import-xpdl", "--out", dir, publicationSample)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, report)
	}
	copyBuiltin(t, dir, "publication")

	// menus check refuses the folder, for the reasons the report gave.
	out, err := runGuichet(t, "menus", "check", dir)
	if err == nil {
		t.Fatalf("menus check passes an import the report says it refuses:\n%s", out)
	}
	var problems []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		file, rest, _ := strings.Cut(l, ":")
		if file != "publication.yaml" {
			t.Errorf("a problem outside the imported file: %s", l)
			continue
		}
		_, msg, _ := strings.Cut(rest, ": ")
		problems = append(problems, msg)
		if !strings.Contains(report, ": "+msg+" [") {
			t.Errorf("menus check reports %q, which the import's report does not announce", msg)
		}
	}
	if announced := len(checkItem.FindAllString(report, -1)); announced != len(problems) {
		t.Errorf("the report announces %d problems, menus check finds %d:\n%s", announced, len(problems), strings.Join(problems, "\n"))
	}

	// The administration's edits: English texts, and a served operation
	// for each application (here, every step records a case).
	edit(t, filepath.Join(dir, "publication.yaml"))
	if out, err := runGuichet(t, "menus", "check", dir); err != nil {
		t.Fatalf("menus check after the edits: %v\n%s", err, out)
	}

	tests := []struct {
		name   string
		script string
		cases  int // one per action passed through
	}{
		{"publish at once", `dial *123#
< CON Choisissez la langue / Choose language
< 1 Francais
< 2 English
> 1
< CON Guichet: services publics
< 1 COVID-19
< 2 Acte de naissance
< 3 Rendez-vous au guichet
< 4 Suivre un dossier
< 5 Courrier officiel
< 6 Entreprises
< 7 Publication
< 8 English
> 7
< CON Editorial Review
< 1 Reject
< 2 Final Preparation
< 3 Prepare
< 4 Publish
< 0 Retour 00 Accueil
> 4
< END Merci. Votre démarche est terminée.
`, 5},
		{"final preparation, then publish", `dial *123#
< CON Choisissez la langue / Choose language
< 1 Francais
< 2 English
> 2
< CON Guichet: public services
< 1 COVID-19
< 2 Birth certificate
< 3 Book an office visit
< 4 Track a case
< 5 Official mail
< 6 Businesses
< 7 Publication
< 8 Francais
> 7
< CON Editorial Review
< 1 Reject
< 2 Final Preparation
< 3 Prepare
< 4 Publish
< 0 Back 00 Home
> 2
< CON Review Final
< 1 Publish
< 2 Final Preparation
< 0 Back 00 Home
> 1
< END Thank you. Your request is complete.
`, 7},
		{"back to the draft, then reject", `dial *123*7#
< CON Choisissez la langue / Choose language
< 1 Francais
< 2 English
> 1
< CON Editorial Review
< 1 Reject
< 2 Final Preparation
< 3 Prepare
< 4 Publish
< 0 Retour 00 Accueil
> 3
< CON Editorial Review
< 1 Reject
< 2 Final Preparation
< 3 Prepare
< 4 Publish
< 0 Retour 00 Accueil
> 1
< END Merci. Votre démarche est terminée.
`, 9},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One caller plays every path: no hourly limit on its cases.
			g := newTestGateway(t, func(c *Config) { c.Menus, c.Limits.CasesPerHour = dir, -1 })
			phone := "+23767710020" + string(rune('0'+i))
			script := "phone " + phone + "\n" + tt.script
			if got := playDialogue(t, script, g); got != script {
				t.Errorf("the gateway answers otherwise:\n%s", firstDiff(script, got))
			}
			opened, err := g.cases.Cases(context.Background(), cases.CaseFilter{Services: []string{"publication"}, Phone: phone}, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(opened) != tt.cases {
				t.Errorf("%d cases opened, want %d (one per action node passed)", len(opened), tt.cases)
			}
		})
	}
}

// copyBuiltin copies the built-in catalogue into dir and adds the ids to
// its home menu.
func copyBuiltin(t *testing.T, dir string, ids ...string) {
	t.Helper()
	files, err := filepath.Glob("../../menus/catalogue/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no built-in catalogue: %v", err)
	}
	services := regexp.MustCompile(`(?m)^services: \[(.*)\]$`)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(f) == "catalogue.yaml" {
			if !services.Match(data) {
				t.Fatal("catalogue.yaml has no services: [...] line")
			}
			data = services.ReplaceAll(data, []byte("services: [$1, "+strings.Join(ids, ", ")+"]"))
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// edit makes the changes the report asks for: an English text wherever
// there is only French (the sample's names are English), and a served
// operation in every action.
func edit(t *testing.T, file string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			keys := map[string]*yaml.Node{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				keys[n.Content[i].Value] = n.Content[i+1]
			}
			if fr, ok := keys["fr"]; ok && keys["en"] == nil {
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "en"},
					&yaml.Node{Kind: yaml.ScalarNode, Value: fr.Value, Style: yaml.DoubleQuotedStyle})
			}
			if a, ok := keys["action"]; ok {
				a.Value = "cases.open"
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestImportedServicesCheckClean imports the subflow sample, whose
// sub-processes become services of their own, and holds the folder to the
// check: after the same edits, every imported service passes.
func TestImportedServicesCheckClean(t *testing.T) {
	dir := t.TempDir()
	if out, err := runGuichet(t, "menus", "import-xpdl", "--out", dir, subflowSample); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	ids := []string{"main_flow", "sub_flow", "inner_subflow"}
	copyBuiltin(t, dir, ids...)
	for _, id := range ids {
		edit(t, filepath.Join(dir, id+".yaml"))
	}
	out, err := runGuichet(t, "menus", "check", dir)
	if err != nil {
		t.Fatalf("menus check: %v\n%s", err, out)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	sort.Strings(names)
	if !strings.Contains(out, "ok: 9 services") {
		t.Errorf("menus check: %s (files %v)", out, names)
	}
}
