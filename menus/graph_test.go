package menus_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/guichet/guichet/menus"
)

// TestGraph compares the built-in catalogue's diagrams with
// testdata/graph.mmd and testdata/graph.dot (go test -update rewrites them).
func TestGraph(t *testing.T) {
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ format, file string }{
		{"mermaid", "testdata/graph.mmd"},
		{"dot", "testdata/graph.dot"},
	} {
		t.Run(c.format, func(t *testing.T) {
			var b strings.Builder
			if err := menus.Graph(&b, cat, c.format, "fr"); err != nil {
				t.Fatal(err)
			}
			golden(t, c.file, b.String())
		})
	}
}

func TestGraphUnknownFormat(t *testing.T) {
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"svg", "", "Mermaid", "DOT"} {
		var b strings.Builder
		err := menus.Graph(&b, cat, format, "fr")
		if err == nil || !strings.Contains(err.Error(), "unknown graph format") {
			t.Errorf("Graph(%q) = %v, want an unknown format error", format, err)
		}
		if b.Len() > 0 {
			t.Errorf("Graph(%q) wrote %d bytes before failing", format, b.Len())
		}
	}
}

var (
	dotVertex = regexp.MustCompile(`^  (\w+) \[label=`)
	dotEdge   = regexp.MustCompile(`^  (\w+) -> (\w+) \[`)
)

// TestGraphEdges requires that every edge of a checked catalogue's graph
// joins two of its vertices, that every node is a vertex once, and that
// every service hangs from home: a graph of a valid catalogue has no loose
// ends.
func TestGraphEdges(t *testing.T) {
	builtin, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	kinds, err := menus.Load(os.DirFS("."), "testdata/kinds")
	if err != nil {
		t.Fatal(err)
	}
	for name, cat := range map[string]*menus.Catalogue{"builtin": builtin, "kinds": kinds} {
		var b strings.Builder
		if err := menus.Graph(&b, cat, "dot", "en"); err != nil {
			t.Fatal(err)
		}
		vertices := map[string]int{}
		var edges [][2]string
		for _, line := range strings.Split(b.String(), "\n") {
			if m := dotVertex.FindStringSubmatch(line); m != nil {
				vertices[m[1]]++
			} else if m := dotEdge.FindStringSubmatch(line); m != nil {
				edges = append(edges, [2]string{m[1], m[2]})
			}
		}
		nodes := 1 // home
		for _, s := range cat.Services {
			nodes += len(s.Nodes)
		}
		if len(vertices) != nodes {
			t.Errorf("%s: %d distinct vertices for %d nodes and home", name, len(vertices), nodes)
		}
		for v, n := range vertices {
			if n != 1 {
				t.Errorf("%s: vertex %s is declared %d times", name, v, n)
			}
		}
		fromHome := 0
		for _, e := range edges {
			for _, end := range e {
				if vertices[end] == 0 {
					t.Errorf("%s: edge %s -> %s leads to no vertex %s", name, e[0], e[1], end)
				}
			}
			if e[0] == "home" {
				fromHome++
			}
		}
		if fromHome != len(cat.Order) {
			t.Errorf("%s: %d edges from home for %d services", name, fromHome, len(cat.Order))
		}
	}
}
