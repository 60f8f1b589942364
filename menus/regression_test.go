package menus_test

import (
	"strings"
	"testing"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
)

// The tests in this file hold bugs the menus package once had, so that they
// stay fixed.

const bugHead = "service: svc\ncategory: G2C\nowner: test\ntitle: {fr: \"Service\", en: \"Service\"}\n"

// withService returns the built-in catalogue's home menu and texts with the
// service in data alone.
func withService(t *testing.T, data string) *menus.Catalogue {
	t.Helper()
	builtin, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	s, err := menus.ParseService("svc.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	cat := *builtin
	cat.Order = []string{s.ID}
	cat.Services = map[string]*menus.Service{s.ID: s}
	cat.Shortcuts = nil
	return &cat
}

// Check sorts problems by file and line only, and several checks walk maps
// (fail:, args:, shortcuts:, messages:), so two problems on one line come
// out in a random order from one run to the next: the CLI's output and
// golden files like want.txt flicker. check.go:32 (sort.SliceStable on File,
// Line); a fix is to sort by Msg as well, or to walk the maps' keys sorted.
func TestRegressionCheckOrderIsDeterministic(t *testing.T) {

	cat := withService(t, bugHead+`start: a
nodes:
  a:
    action: cases.open
    next: b
    fail: {timeout: b, later: b, oops: b, never: b}
  b:
    end: {fr: "Fait.", en: "Done."}
`)
	first := menus.Check(cat, cases.Operations, menus.DefaultLimit).Error()
	for range 50 {
		if again := menus.Check(cat, cases.Operations, menus.DefaultLimit).Error(); again != first {
			t.Fatalf("Check gave two orders:\n%s\n---\n%s", first, again)
		}
	}
}

// An empty file (or one with only comments) is reported as
// "not valid YAML: EOF": yaml.v3's Decoder answers io.EOF for it, so the
// "file is empty" branch of reader.root (load.go) is never reached. Fix:
// treat errors.Is(err, io.EOF) as the empty file.
func TestRegressionEmptyFile(t *testing.T) {

	for _, data := range []string{"", "# nothing yet\n"} {
		_, err := menus.ParseService("svc.yaml", []byte(data))
		if err == nil || err.Error() != "svc.yaml: file is empty" {
			t.Errorf("ParseService(%q) = %v, want svc.yaml: file is empty", data, err)
		}
	}
}

// yaml.v3 leaves the line out of a syntax error on the first line (it only
// writes "line N: " when N != 0), so reader.root keeps the message whole:
// no line, and "yaml: " twice. load.go, reader.root: strip the "yaml: "
// prefix in every case.
func TestRegressionSyntaxErrorOnFirstLine(t *testing.T) {

	_, err := menus.ParseService("svc.yaml", []byte("service: svc: x\n"))
	if err == nil || strings.Contains(err.Error(), "yaml: yaml:") || strings.Contains(err.Error(), "YAML: yaml:") {
		t.Errorf("ParseService = %v, want the message without a second yaml: prefix", err)
	}
}

// Check sizes a choose node with a single label of the operation's longest
// (check.go, case KindChoose: labels = one "W"*LabelMax), so without the
// "98 Suite" line that page 1 carries as soon as the list has two options.
// Here Check passes a header of 125 characters (125+1+32+1+19 = 178), but
// page 1 with two offices is 187 characters. Fix: size it with two labels.
func TestRegressionChooseSizedWithoutMoreLine(t *testing.T) {

	header := strings.Repeat("x", 125)
	cat := withService(t, bugHead+`start: a
nodes:
  a:
    ask: {fr: "`+header+`", en: "`+header+`"}
    choose: {from: offices.list, save: office}
    next: b
  b:
    end: {fr: "Fait.", en: "Done."}
`)
	ps := menus.Check(cat, cases.Operations, menus.DefaultLimit)
	sc := menus.Screens{Cat: cat, Lang: "fr", Limit: menus.DefaultLimit}
	label := strings.Repeat("W", 30) // offices.list's LabelMax
	pages := sc.Node(cat.Services["svc"].Nodes["a"], nil, []string{label, label}, "")
	if !menus.Fits(pages[0].Text, menus.DefaultLimit) && len(ps) == 0 {
		t.Errorf("Check passes node a, whose first page is %d characters with two options", len([]rune(pages[0].Text)))
	}
}

// Graph makes a vertex id by replacing '-' with '_' (graph.go, id), so the
// nodes x-y and x_y of a service, or the services a-b and a_b, share one
// vertex and their edges merge. Fix: escape '_' too (say "_" → "__u") or
// number the vertices.
func TestRegressionGraphIDsCollide(t *testing.T) {

	cat := withService(t, bugHead+`start: x-y
nodes:
  x-y:
    confirm: {fr: "Sur ?", en: "Sure?"}
    yes: x_y
  x_y:
    end: {fr: "Fait.", en: "Done."}
`)
	var b strings.Builder
	if err := menus.Graph(&b, cat, "dot", "fr"); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, line := range strings.Split(b.String(), "\n") {
		if m := dotVertex.FindStringSubmatch(line); m != nil {
			if ids[m[1]] {
				t.Errorf("vertex %s is declared twice:\n%s", m[1], b.String())
			}
			ids[m[1]] = true
		}
	}
}

// ParseService reads statuses: without r.fields (load.go, the statuses
// loop), so a list is silently ignored, a status given twice silently
// replaces the first, and a status name is not checked. Fix: walk
// r.fields(st, "statuses") and validName each key.
func TestRegressionStatusesNotValidated(t *testing.T) {

	for _, statuses := range []string{
		"statuses: [received, done]\n",
		"statuses:\n  done: {fr: \"Fait\", en: \"Done\"}\n  done: {fr: \"Fini\", en: \"Finished\"}\n",
		"statuses:\n  \"Not a name!\": {fr: \"Fait\", en: \"Done\"}\n",
	} {
		data := bugHead + "start: b\nnodes:\n  b:\n    end: {fr: \"Fait.\", en: \"Done.\"}\n" + statuses
		if _, err := menus.ParseService("svc.yaml", []byte(data)); err == nil {
			t.Errorf("ParseService accepts %q", statuses)
		}
	}
}

// An input's max is any whole number, and Check fills its variable with
// strings.Repeat("W", max) (check.go, node) and pages the result: max:
// 300000000 takes 15 s and gigabytes, max: 9999999999 runs the process out
// of memory, whether from `guichet menus check` or at start-up. Fix: refuse
// a max over some bound in needMax (input.go), e.g. a screen's worth, and
// cap what Check fills at limit+1.
func TestRegressionHugeMax(t *testing.T) {

	cat := withService(t, bugHead+`start: a
nodes:
  a:
    ask: {fr: "Code ?", en: "Code?"}
    input: {type: digits, max: 10000000, save: code}
    next: b
  b:
    end: {fr: "Code {{code}}.", en: "Code {{code}}."}
`)
	ps := menus.Check(cat, cases.Operations, menus.DefaultLimit)
	for _, p := range ps {
		if p.Line == 8 && strings.Contains(p.Msg, "max") {
			return
		}
	}
	t.Errorf("Check does not refuse max: 10000000 at svc.yaml:8:\n%v", ps)
}
