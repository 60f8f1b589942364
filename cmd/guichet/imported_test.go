package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/apikey"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
)

// TestImportedServicesRun takes every XPDL sample the project holds from
// the file to a live service, as an administration would, without a single
// edit: menus import-xpdl --into a menu folder (which it checks), a caller
// dials the imported service and walks it to its end screen, with the
// case's reference when the workflow leaves the citizen's hands; then the
// ministry moves the case through its imported statuses over the API,
// and the citizen gets each status's SMS.
func TestImportedServicesRun(t *testing.T) {
	samples, err := filepath.Glob("../../menus/xpdl/testdata/*.xpdl")
	if err != nil || len(samples) < 8 {
		t.Fatalf("samples: %v %v", samples, err)
	}
	for i, sample := range samples {
		t.Run(strings.TrimSuffix(filepath.Base(sample), ".xpdl"), func(t *testing.T) {
			dir := t.TempDir()
			copyBuiltin(t, dir)
			out, err := runGuichet(t, "menus", "import-xpdl", "--into", dir, sample)
			if err != nil || !strings.Contains(out, "ok: menus check passes on "+dir) {
				t.Fatalf("import --into: %v\n%s", err, out)
			}
			cat, err := loadCatalogue(dir)
			if err != nil {
				t.Fatal(err)
			}
			g := newTestGateway(t, func(c *Config) { c.Menus, c.Limits.CasesPerHour = dir, -1 })
			phone := fmt.Sprintf("+2376771003%02d", i)
			// The first imported service on the home menu: the main one.
			svc := cat.Services[cat.Order[6]]
			inputs, opens := walk(t, svc)
			screen := dialHome(t, g, phone, 7, inputs)
			if !opens {
				if !strings.HasPrefix(screen, "END ") {
					t.Fatalf("the walk through %s ends on %q", svc.ID, screen)
				}
				return
			}
			ref := regexp.MustCompile(`\b(\d{8})\b`).FindString(screen)
			if !strings.HasPrefix(screen, "END ") || ref == "" {
				t.Fatalf("the walk through %s ends on %q, with no case reference", svc.ID, screen)
			}
			moveThrough(t, g, svc, ref, phone)
		})
	}
}

// walk finds the shortest way through a service to the node that opens
// the case (else to an end screen) and the inputs that take it: option 1
// of each menu unless another leads closer, yes to each question, a valid
// value for each input.
func walk(t *testing.T, svc *menus.Service) (inputs []string, opens bool) {
	t.Helper()
	type step struct {
		node  string
		input string
	}
	prev := map[string]step{svc.Start: {}}
	queue := []string{svc.Start}
	goal := ""
	for len(queue) > 0 && goal == "" {
		name := queue[0]
		queue = queue[1:]
		n := svc.Nodes[name]
		var moves [][2]string // input, next
		switch n.Kind {
		case menus.KindMenu:
			for i, o := range n.Options {
				moves = append(moves, [2]string{fmt.Sprint(i + 1), o.Next})
			}
		case menus.KindConfirm:
			moves = append(moves, [2]string{"1", n.Yes}, [2]string{"2", n.No})
		case menus.KindInput:
			moves = append(moves, [2]string{valid(t, n.Input), n.Next})
		case menus.KindAction:
			if n.Action == "cases.open" {
				goal, opens = name, true
				continue
			}
			moves = append(moves, [2]string{"", n.Next})
		case menus.KindEnd:
			if goal == "" && !slices.ContainsFunc(svc.Order, func(o string) bool {
				x := svc.Nodes[o]
				return x.Kind == menus.KindAction && x.Action == "cases.open"
			}) {
				goal = name
			}
			continue
		}
		for _, m := range moves {
			if _, seen := prev[m[1]]; !seen && svc.Nodes[m[1]] != nil {
				prev[m[1]] = step{name, m[0]}
				queue = append(queue, m[1])
			}
		}
	}
	if goal == "" {
		t.Fatalf("service %s: no way from %s to a case or an end", svc.ID, svc.Start)
	}
	for at := goal; at != svc.Start; at = prev[at].node {
		if in := prev[at].input; svc.Nodes[prev[at].node].Kind != menus.KindAction {
			inputs = append([]string{in}, inputs...)
		}
	}
	return inputs, opens
}

// valid is an answer an input accepts.
func valid(t *testing.T, in *menus.Input) string {
	t.Helper()
	for _, v := range []string{"Awa Njoya", "12", "01012020", "1230", "A1"} {
		if _, ok := menus.InputTypes[in.Type].Check(in, v, dialogueStart); ok {
			return v
		}
	}
	t.Fatalf("no test answer fits input %+v", in)
	return ""
}

// dialHome dials *123# as phone, picks French, then the home menu's
// option and the inputs, and returns the last screen.
func dialHome(t *testing.T, g *testGateway, phone string, option int, inputs []string) string {
	t.Helper()
	text, screen := "", ""
	for _, in := range append([]string{"", "1", fmt.Sprint(option)}, inputs...) {
		if text == "" {
			text = in
		} else {
			text += "*" + in
		}
		resp, err := http.PostForm(g.url+"/ussd/demo", url.Values{"sessionId": {"imp-" + phone}, "phoneNumber": {phone},
			"serviceCode": {"*123#"}, "text": {text}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if screen = string(b); resp.StatusCode != http.StatusOK {
			t.Fatalf("hop %q: %d %s", text, resp.StatusCode, b)
		}
	}
	return screen
}

// moveThrough moves the case from received along its statuses, the first
// move of each, over the ministry API with the owner's key, and checks
// each move's SMS: the status's own message, filled with the reference.
func moveThrough(t *testing.T, g *testGateway, svc *menus.Service, ref, phone string) {
	t.Helper()
	ctx := context.Background()
	key := apikey.New()
	if err := g.stores.keys.AddAPIKey(ctx, apikey.Key{Owner: svc.Owner, Label: "test", Created: time.Now()}, apikey.Hash(key)); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{"received": true}
	moves := 0
	for at := "received"; len(svc.Statuses[at].Next) > 0; {
		next := ""
		for _, n := range svc.Statuses[at].Next {
			if !seen[n] {
				next = n
				break
			}
		}
		if next == "" {
			break // only loops back
		}
		req, _ := http.NewRequest("POST", g.url+"/api/v1/cases/"+ref+"/events", strings.NewReader(`{"status":"`+next+`"}`))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("moving %s from %s to %s: %d %s", ref, at, next, resp.StatusCode, b)
		}
		msgs, err := g.stores.outbox.Messages(ctx, phone, 50)
		if err != nil {
			t.Fatal(err)
		}
		want := menus.Fill(svc.Messages[next].Get("fr"), map[string]string{"ref": ref})
		if !slices.ContainsFunc(msgs, func(m outbox.Message) bool { return m.CaseRef == ref && m.Body == want }) {
			t.Errorf("moved to %s: no SMS %q among %d", next, want, len(msgs))
		}
		seen[next], at = true, next
		moves++
	}
	if moves == 0 {
		t.Errorf("the case of %s cannot move from received (statuses %v)", svc.ID, svc.Statuses)
	}
}
