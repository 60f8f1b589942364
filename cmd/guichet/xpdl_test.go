package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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
			out:   []string{"XPDL 2.1", "menus check (limit 182) will report nothing about publication.yaml", "wrote {dir}/a/publication.yaml"}},
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
		{name: "who the citizen is", args: []string{"--citizen", "Editorial Reviewer", publicationSample},
			out: []string{`the citizen on the phone is participant "Editorial Reviewer" (--citizen)`}},
		{name: "nobody of that name", args: []string{"--citizen", "Reader", publicationSample},
			wantErr: `--citizen "Reader": process "Publication" has no participant, lane or pool of that name or id`},
		{name: "an application mapped", args: []string{"--map", "prepare=cases.open", publicationSample},
			out: []string{"opens a case (cases.open): the call ends there"}},
		{name: "a map without an operation", args: []string{"--map", "prepare", publicationSample},
			wantErr: `"prepare": want APPLICATION=OPERATION`},
		{name: "into and out", args: []string{"--into", "{dir}", "--out", "{dir}/x", publicationSample},
			wantErr: "--into writes into the menu folder it checks against: not with --out or --menus"},
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
			if len(ids) > 0 {
				data = services.ReplaceAll(data, []byte("services: [$1, "+strings.Join(ids, ", ")+"]"))
			}
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestImportInto imports into a menu folder: the service file beside the
// others, on the home menu, the folder checked; a second import of the
// same service is refused unless --force, which lists it once.
func TestImportInto(t *testing.T) {
	dir := t.TempDir()
	copyBuiltin(t, dir)
	out, err := runGuichet(t, "menus", "import-xpdl", "--into", dir, publicationSample)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"wrote " + filepath.Join(dir, "publication.yaml"), "added publication to services: in " + filepath.Join(dir, "catalogue.yaml"),
		"ok: menus check passes on " + dir + " (7 services)"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	home := func() string {
		data, err := os.ReadFile(filepath.Join(dir, "catalogue.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	if h := home(); !strings.Contains(h, "services: [covid, birth-certificate, visit, track, courrier, business-licence, publication]") ||
		!strings.Contains(h, "# The built-in catalogue") {
		t.Errorf("catalogue.yaml after the import (its comments kept):\n%s", h)
	}
	if out, err := runGuichet(t, "menus", "check", dir); err != nil {
		t.Errorf("menus check: %v\n%s", err, out)
	}
	_, err = runGuichet(t, "menus", "import-xpdl", "--into", dir, publicationSample)
	if err == nil || !strings.Contains(err.Error(), "already has a service publication: nothing written; --service names this one otherwise, --force replaces it") {
		t.Errorf("a second import: %v", err)
	}
	if out, err := runGuichet(t, "menus", "import-xpdl", "--force", "--into", dir, publicationSample); err != nil || strings.Count(home(), "publication") != 1 {
		t.Errorf("--force: %v\n%s\n%s", err, out, home())
	}
	if _, err := runGuichet(t, "menus", "import-xpdl", "--into", filepath.Join(dir, "none"), publicationSample); err == nil || !strings.Contains(err.Error(), "none") {
		t.Errorf("into a folder that does not exist: %v", err)
	}

	// A file of that name holding another service is not overwritten
	// without --force; a folder the import would break is left as it was.
	other := t.TempDir()
	copyBuiltin(t, other)
	if err := os.Rename(filepath.Join(other, "courrier.yaml"), filepath.Join(other, "main_flow.yaml")); err != nil {
		t.Fatal(err)
	}
	snapshot := func() string {
		var b strings.Builder
		files, _ := filepath.Glob(filepath.Join(other, "*"))
		for _, f := range files {
			data, _ := os.ReadFile(f)
			b.WriteString(f + "\n" + string(data))
		}
		return b.String()
	}
	before := snapshot()
	_, err = runGuichet(t, "menus", "import-xpdl", "--into", other, subflowSample)
	if err == nil || !strings.Contains(err.Error(), "main_flow.yaml already exist(s): nothing written; --force overwrites") || strings.Contains(err.Error(), ".import-") {
		t.Errorf("over another service's file: %v", err)
	}
	if snapshot() != before {
		t.Error("the refused import changed the folder")
	}
	if _, err = runGuichet(t, "menus", "import-xpdl", "--limit", "60", "--into", other, publicationSample); err == nil || !strings.Contains(err.Error(), "with the import: nothing written") {
		t.Errorf("an import that fails the check: %v", err)
	}
	if snapshot() != before {
		t.Error("the import that fails the check changed the folder")
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(other), ".import-*")); len(leftovers) > 0 {
		t.Errorf("work folders left behind: %v", leftovers)
	}
}

// TestMenusFolderLogged: serve says which menus it serves, the folder's
// and not the built-in catalogue's.
func TestMenusFolderLogged(t *testing.T) {
	dir := t.TempDir()
	copyBuiltin(t, dir)
	for _, tt := range []struct{ menus, want string }{{dir, `from="folder ` + filepath.Base(dir) + `"`}, {"", `from="the built-in catalogue"`}} {
		var logs strings.Builder
		cfg := defaultConfig()
		cfg.Menus, cfg.Operators = tt.menus, []OperatorConfig{demoOperator}
		g, err := build(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)), false)
		if err != nil {
			t.Fatal(err)
		}
		g.close()
		if !strings.Contains(logs.String(), `msg="menus loaded" `+tt.want+" services=6") {
			t.Errorf("menus %q: the log says\n%s", tt.menus, logs.String())
		}
	}
}
