package menus_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/guichet/guichet/menus"
)

func TestPaginate(t *testing.T) {
	long := "2 " + strings.Repeat("x", 30)
	for _, c := range []struct {
		name         string
		header       string
		items        []string
		more, footer string
		limit        int
		want         []menus.Page
		overlong     []int // pages allowed over the limit (an item longer than any page)
	}{
		{
			name:   "one page",
			header: "Menu", items: []string{"1 Un", "2 Deux"}, more: "98 Suite", footer: "0 Retour", limit: 182,
			want: []menus.Page{{Text: "Menu\n1 Un\n2 Deux\n0 Retour", First: 0, N: 2}},
		},
		{
			name:   "no items",
			header: "Menu", more: "98 Suite", footer: "0 Retour", limit: 182,
			want: []menus.Page{{Text: "Menu\n0 Retour", First: 0, N: 0}},
		},
		{
			name:  "no header, no footer",
			items: []string{"1 Un", "2 Deux"}, more: "98 Suite", limit: 182,
			want: []menus.Page{{Text: "1 Un\n2 Deux", First: 0, N: 2}},
		},
		{
			name:   "exactly at the limit",
			header: "Menu", items: []string{"1 Un", "2 Deux"}, more: "98 Suite", footer: "0 Retour", limit: 25,
			want: []menus.Page{{Text: "Menu\n1 Un\n2 Deux\n0 Retour", First: 0, N: 2}},
		},
		{
			// One page would be 33 characters; with its "more" line,
			// page 1 cannot take a second item (34).
			name:   "two pages",
			header: "Menu", items: []string{"1 Un", "2 Deux", "3 Trois"}, more: "98 Suite", footer: "0 Retour", limit: 32,
			want: []menus.Page{
				{Text: "Menu\n1 Un\n98 Suite\n0 Retour", First: 0, N: 1},
				{Text: "2 Deux\n3 Trois\n0 Retour", First: 1, N: 2},
			},
		},
		{
			// Page 1 is 37 characters; a second item would make it 45.
			// Page 2 is 35; a third item would make it 43. Page 3 has
			// room for its two items because it needs no "more" line.
			name:   "three pages",
			header: "Choisissez:", items: []string{"1 Alpha", "2 Bravo", "3 Charlie", "4 Delta", "5 Echo"},
			more: "98 Suite", footer: "0 Retour", limit: 40,
			want: []menus.Page{
				{Text: "Choisissez:\n1 Alpha\n98 Suite\n0 Retour", First: 0, N: 1},
				{Text: "2 Bravo\n3 Charlie\n98 Suite\n0 Retour", First: 1, N: 2},
				{Text: "4 Delta\n5 Echo\n0 Retour", First: 3, N: 2},
			},
		},
		{
			// The last item fits only because the last page has no "more" line.
			name:  "last page without more",
			items: []string{"1 aaaa", "2 bbbb"}, more: "98 Suite", limit: 13,
			want: []menus.Page{{Text: "1 aaaa\n2 bbbb", First: 0, N: 2}},
		},
		{
			name:  "an item longer than any page gets a page of its own",
			items: []string{"1 a", long, "3 c"}, more: "98 M", limit: 20,
			want: []menus.Page{
				{Text: "1 a\n98 M", First: 0, N: 1},
				{Text: long + "\n98 M", First: 1, N: 1},
				{Text: "3 c", First: 2, N: 1},
			},
			overlong: []int{1},
		},
		{
			name:  "extension characters count twice",
			items: []string{"1 [a]", "2 [b]"}, more: "98 M", limit: 12,
			want: []menus.Page{
				{Text: "1 [a]\n98 M", First: 0, N: 1},
				{Text: "2 [b]", First: 1, N: 1},
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := menus.Paginate(c.header, c.items, c.more, c.footer, c.limit)
			if !slices.Equal(got, c.want) {
				t.Fatalf("Paginate =\n%+v\nwant\n%+v", got, c.want)
			}
			checkPages(t, got, c.header, c.items, c.more, c.footer, c.limit, c.overlong)
		})
	}
}

// checkPages holds pages to what Paginate promises.
func checkPages(t *testing.T, pages []menus.Page, header string, items []string, more, footer string, limit int, overlong []int) {
	t.Helper()
	next := 0
	for i, p := range pages {
		lines := strings.Split(p.Text, "\n")
		last := i == len(pages)-1
		if p.First != next {
			t.Errorf("page %d starts at item %d, want %d", i+1, p.First, next)
		}
		next = p.First + p.N
		if p.N == 0 && len(items) > 0 {
			t.Errorf("page %d shows no item", i+1)
		}
		if header != "" && (lines[0] == header) != (i == 0) {
			t.Errorf("page %d: header on it is %v, want only on page 1", i+1, lines[0] == header)
		}
		hasMore := slices.Contains(lines, more)
		if hasMore == last {
			t.Errorf("page %d of %d: more line %v", i+1, len(pages), hasMore)
		}
		if footer != "" && lines[len(lines)-1] != footer {
			t.Errorf("page %d does not end with the footer", i+1)
		}
		if !menus.Fits(p.Text, limit) && !slices.Contains(overlong, i) {
			t.Errorf("page %d is over the limit of %d: %q", i+1, limit, p.Text)
		}
	}
	if next != len(items) {
		t.Errorf("pages show %d items, want %d", next, len(items))
	}
}

// TestPagingFixture renders the menus of testdata/broken_paging: "many"
// needs two screens, each within 182, and Check says nothing about it;
// "huge" has one option that no screen can hold.
func TestPagingFixture(t *testing.T) {
	cat, err := menus.Load(os.DirFS("."), "testdata/broken_paging")
	if err != nil {
		t.Fatal(err)
	}
	s := cat.Services["svc"]
	for _, lang := range menus.Languages {
		sc := menus.Screens{Cat: cat, Lang: lang, Limit: menus.DefaultLimit}
		many := s.Nodes["many"]
		pages := sc.Node(many, nil, nil, "")
		if len(pages) < 2 {
			t.Errorf("many (%s) takes %d page, want it paged", lang, len(pages))
		}
		labels := make([]string, len(many.Options))
		for i, o := range many.Options {
			labels[i] = o.Label.Get(lang)
		}
		checkPages(t, pages, many.Text.Get(lang), menus.Numbered(labels), sc.More(), sc.Nav(), menus.DefaultLimit, nil)

		huge := sc.Node(s.Nodes["huge"], nil, nil, "")
		if len(huge) != 1 || menus.Fits(huge[0].Text, menus.DefaultLimit) {
			t.Errorf("huge (%s): %d pages, first fits: want one page over the limit", lang, len(huge))
		}
	}
}

func TestFill(t *testing.T) {
	vars := map[string]string{"name": "Awa", "ref": "12345674", "x": "X"}
	for _, c := range []struct{ tpl, want string }{
		{"Bonjour {{name}}.", "Bonjour Awa."},
		{"Bonjour {{ name }}.", "Bonjour Awa."},
		{"{{name}}{{ref}}", "Awa12345674"},
		{"Dossier {{unknown}}.", "Dossier ."},
		{"{{}}", ""},
		{"no variables", "no variables"},
		{"", ""},
		{"a {{x}} b {{y", "a X b {{y"},
		{"a {{x", "a {{x"},
		{"}} {{x}} {", "}} X {"},
		{"{x} {{x}", "{x} {{x}"},
		{"é {{name}} €", "é Awa €"},
	} {
		if got := menus.Fill(c.tpl, vars); got != c.want {
			t.Errorf("Fill(%q) = %q, want %q", c.tpl, got, c.want)
		}
	}
	if got := menus.Fill("{{name}}", nil); got != "" {
		t.Errorf("Fill with no variables = %q, want empty", got)
	}
}

func TestPlaceholders(t *testing.T) {
	for _, c := range []struct {
		tpl  string
		want []string
	}{
		{"Dossier {{ref}}: {{ status }}.", []string{"ref", "status"}},
		{"{{a}}{{b}}{{a}}", []string{"a", "b", "a"}},
		{"none", nil},
		{"", nil},
		{"{{a}} and {{b", []string{"a"}},
		{"{{", nil},
		{"}}{{a}}", []string{"a"}},
	} {
		if got := menus.Placeholders(c.tpl); !slices.Equal(got, c.want) {
			t.Errorf("Placeholders(%q) = %q, want %q", c.tpl, got, c.want)
		}
	}
}

func TestScreenSize(t *testing.T) {
	for _, c := range []struct {
		s         string
		limit     int
		size, max int
		bad       rune
		fits      bool
	}{
		{"Hello", 182, 5, 182, 0, true},
		{strings.Repeat("a", 182), 182, 182, 182, 0, true},
		{strings.Repeat("a", 183), 182, 183, 182, 0, false},
		{strings.Repeat("a", 161), 160, 161, 160, 0, false},
		{strings.Repeat("€", 91), 182, 182, 182, 0, true},
		{strings.Repeat("€", 92), 182, 184, 182, 0, false},
		{"Fête", 182, 4, menus.UCS2Limit, 'ê', true},
		{"Fête", 160, 4, 80, 'ê', true},
		{"Fête", 60, 4, 60, 'ê', true}, // a smaller limit still holds
		{"€ê", 182, 2, 80, 'ê', true},  // characters, not septets, in UCS-2
		{"ê" + strings.Repeat("a", 79), 182, 80, 80, 'ê', true},
		{"ê" + strings.Repeat("a", 80), 182, 81, 80, 'ê', false},
		{"ê" + strings.Repeat("a", 100), 182, 101, 80, 'ê', false}, // 101 septets would have fit GSM-7
	} {
		size, max, bad := menus.ScreenSize(c.s, c.limit)
		if size != c.size || max != c.max || bad != c.bad {
			t.Errorf("ScreenSize(%.20q…, %d) = %d, %d, %q; want %d, %d, %q", c.s, c.limit, size, max, bad, c.size, c.max, c.bad)
		}
		if got := menus.Fits(c.s, c.limit); got != c.fits {
			t.Errorf("Fits(%.20q…, %d) = %v, want %v", c.s, c.limit, got, c.fits)
		}
	}
}

func TestNumbered(t *testing.T) {
	got := menus.Numbered([]string{"Un", "Deux"})
	if want := []string{"1 Un", "2 Deux"}; !slices.Equal(got, want) {
		t.Errorf("Numbered = %q, want %q", got, want)
	}
	if got := menus.Numbered(nil); len(got) != 0 {
		t.Errorf("Numbered(nil) = %q", got)
	}
}

func TestTextIn(t *testing.T) {
	for _, tt := range []struct {
		t            menus.Text
		lang         string
		want, wantIn string
	}{
		{menus.Text{"fr": "a", "en": "b"}, "en", "b", "en"},
		{menus.Text{"fr": "a"}, "en", "a", "fr"},
		{menus.Text{"en": "b"}, "fr", "b", "en"},
		{menus.Text{}, "fr", "", "fr"},
	} {
		if got, in := tt.t.In(tt.lang); got != tt.want || in != tt.wantIn {
			t.Errorf("%v.In(%s) = %q, %q; want %q, %q", tt.t, tt.lang, got, in, tt.want, tt.wantIn)
		}
	}
}
