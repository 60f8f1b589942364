package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/menus/xpdl"
)

const (
	menusUsage = "usage: guichet menus check [--limit N] [DIR]\n" +
		"       guichet menus graph [--format mermaid|dot|svg|png] [--out FILE] [--lang fr|en] [DIR]\n" +
		"       guichet menus import-xpdl [--out FILE|DIR | --into MENUDIR] [--force] [--service ID] [--citizen NAME] [--map APP=OP]… [--limit N] [--menus DIR] FILE.xpdl\n" +
		"(guichet menus VERB --help for each one's flags)"
	checkUsage = `usage: guichet menus check [--limit N] [DIR]

Validate the service files of DIR (default: the built-in catalogue): every
screen within the limit, every node reachable, the backends consistent.`
	graphUsage = `usage: guichet menus graph [--format mermaid|dot|svg|png] [--out FILE] [--lang fr|en] [DIR]

Print the menus of DIR (default: the built-in catalogue) as a diagram:
Mermaid or Graphviz text, or a picture drawn by Graphviz's dot (Debian's
graphviz package), which must then be installed.`
	importUsage = `usage: guichet menus import-xpdl [--out FILE|DIR | --into MENUDIR] [--force] [--service ID] [--citizen NAME] [--map APP=OP]… [--limit N] [--menus DIR] FILE.xpdl

Turn an XPDL file's workflows into service files, with a report of what
was kept, guessed and left out: the citizen's steps as screens, the back
office's as the case's statuses. --into writes them into a menu folder,
adds them to its catalogue.yaml and checks the folder.`
)

func menusCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || isHelp(args[0]) {
		return groupHelp(args, menusUsage, stdout)
	}
	var fs *flags
	var limit *int
	var format, lang, out *string
	switch args[0] {
	case "import-xpdl":
		return importXPDL(args[1:], stdout)
	case "check":
		fs = newFlags("menus check", checkUsage, stdout)
		limit = fs.Int("limit", menus.DefaultLimit, "screen limit in GSM-7 characters (160 for operators that cut there)")
	case "graph":
		fs = newFlags("menus graph", graphUsage, stdout)
		format = fs.String("format", "mermaid", "graph format: mermaid or dot (text), svg or png (a picture, drawn by Graphviz)")
		lang = fs.String("lang", "fr", "language of the graph's labels: fr or en")
		out = fs.String("out", "", "write to `FILE` instead of standard output")
	default:
		return fmt.Errorf("unknown menus command %q (check, graph or import-xpdl)\n%s", args[0], menusUsage)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return fmt.Errorf("%s", fs.usage)
	}
	dir := fs.Arg(0)
	if format != nil && !slices.Contains([]string{"mermaid", "dot", "svg", "png"}, *format) {
		return fmt.Errorf("--format %q: want mermaid, dot, svg or png", *format)
	}
	cat, err := loadCatalogue(dir)
	if err != nil {
		return err
	}
	switch args[0] {
	case "check":
		ps := menus.Check(cat, cases.Operations, *limit)
		for _, p := range ps {
			fmt.Fprintln(stdout, p)
		}
		for _, n := range menus.Notes(cat) {
			fmt.Fprintln(stdout, "warning:", n)
		}
		if len(ps) > 0 {
			return fmt.Errorf("%d problem(s) in the menus", len(ps))
		}
		if _, err := connectors(cat, nil); err != nil {
			fmt.Fprintln(stdout, err)
			return fmt.Errorf("the menus' backends do not hold together")
		}
		fmt.Fprintf(stdout, "ok: %d services, every screen within %d characters\n", len(cat.Services), *limit)
		return nil
	default: // graph
		return graph(ctx, cat, *format, *lang, *out, stdout)
	}
}

// graph writes the catalogue's diagram to the file out, or to stdout when
// out is empty; a picture (svg, png) is the dot text drawn by Graphviz.
func graph(ctx context.Context, cat *menus.Catalogue, format, lang, out string, stdout io.Writer) error {
	var text bytes.Buffer
	textFormat := format
	if format == "svg" || format == "png" {
		textFormat = "dot"
	}
	if err := menus.Graph(&text, cat, textFormat, lang); err != nil {
		return err
	}
	b := text.Bytes()
	if textFormat != format {
		dot, err := exec.LookPath("dot")
		if err != nil {
			return fmt.Errorf("drawing %s needs Graphviz's dot, not found (apt-get install graphviz); --format dot prints what it would draw", format)
		}
		var picture, problems bytes.Buffer
		cmd := exec.CommandContext(ctx, dot, "-T"+format)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = &text, &picture, &problems
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("drawing the graph with %s: %w: %s", dot, err, strings.TrimSpace(problems.String()))
		}
		b = picture.Bytes()
	}
	if out == "" {
		_, err := stdout.Write(b)
		return err
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return fmt.Errorf("writing the graph: %w", err)
	}
	return nil
}

// importXPDL turns an XPDL file's processes into service files, and prints
// the import's report. It fails only when nothing usable came out.
func importXPDL(args []string, stdout io.Writer) error {
	fs := newFlags("menus import-xpdl", importUsage, stdout)
	out := fs.String("out", "", "where to write: a FILE.yaml (other services beside it) or a folder; standard output if empty")
	service := fs.String("service", "", "the id of the main process's service (default: from the process's name)")
	limit := fs.Int("limit", menus.DefaultLimit, "screen limit of the check the report announces")
	dir := fs.String("menus", "", "the catalogue folder the report checks against (default: the built-in catalogue)")
	force := fs.Bool("force", false, "overwrite service files that already exist")
	into := fs.String("into", "", "a menu `folder` (with its catalogue.yaml) to write the services into, on its home menu")
	citizen := fs.String("citizen", "", "the participant, lane or pool (id or name) that is the citizen on the phone (default: guessed)")
	maps := mapFlag{}
	fs.Var(maps, "map", "`APPLICATION=OPERATION`: call a served operation for an application (default_application=cases.open); repeatable")
	// Flags may come before or after the file.
	var files []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 {
		return fmt.Errorf("%s", importUsage)
	}
	file := files[0]
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("reading the XPDL file: %w", err)
	}
	if *into != "" {
		if *out != "" || *dir != "" {
			return errors.New("--into writes into the menu folder it checks against: not with --out or --menus")
		}
		*dir = *into
	}
	cat, err := loadCatalogue(*dir)
	if err != nil {
		return err
	}
	res, err := xpdl.Import(data, xpdl.Options{File: file, Service: *service, Operations: cases.Operations,
		Limit: *limit, Catalogue: cat, Citizen: *citizen, Map: maps})
	if res == nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if *into != "" {
		return importInto(*into, cat, res, *force, *limit, stdout, err)
	}
	if *out == "" {
		// The report as comments, then the files: standard output stays YAML.
		for _, l := range strings.Split(strings.TrimRight(res.Report.String(), "\n"), "\n") {
			fmt.Fprintln(stdout, strings.TrimRight("# "+l, " "))
		}
		for _, f := range res.Files {
			fmt.Fprintf(stdout, "---\n# file: %s\n%s", f.Name, f.YAML)
		}
		return err
	}
	paths, werr := writeServices(*out, res.Files, *force)
	res.Report.WriteTo(stdout)
	for _, p := range paths {
		fmt.Fprintf(stdout, "wrote %s\n", p)
	}
	return errors.Join(err, werr)
}

// writeServices writes the service files to out: a folder, or a file for
// the main service with the others beside it. It writes nothing when two
// services would go to one path, or, unless force, when a file exists.
// importInto writes an import's services into a menu folder, adds them
// to its home menu and checks the folder as serve would. It works on a
// copy of the folder and puts the files in place only once the copy
// passes: a failed import leaves the folder as it was.
func importInto(dir string, cat *menus.Catalogue, res *xpdl.Result, force bool, limit int, stdout io.Writer, importErr error) error {
	res.Report.WriteTo(stdout)
	if importErr != nil {
		return importErr
	}
	for _, f := range res.Files {
		if cat.Services[f.Service] != nil && !force {
			return fmt.Errorf("the menu folder %s already has a service %s: nothing written; --service names this one otherwise, --force replaces it", dir, f.Service)
		}
	}
	work, err := os.MkdirTemp(filepath.Dir(filepath.Clean(dir)), ".import-")
	if err != nil {
		return fmt.Errorf("preparing the import: %w", err)
	}
	defer os.RemoveAll(work)
	if err := os.CopyFS(work, os.DirFS(dir)); err != nil {
		return fmt.Errorf("copying the menu folder: %w", err)
	}
	written, err := writeServices(work, res.Files, force)
	if err != nil {
		return errors.New(strings.ReplaceAll(err.Error(), work, dir)) // name the folder, not the copy
	}
	var ids []string
	for _, f := range res.Files {
		if !slices.Contains(cat.Order, f.Service) {
			ids = append(ids, f.Service)
		}
	}
	home := filepath.Join(work, menus.CatalogueFile)
	if err := addToHome(home, ids); err != nil {
		return err
	}
	after, err := loadCatalogue(work)
	if err != nil {
		return fmt.Errorf("the menu folder %s with the import: %s: nothing written", dir, strings.ReplaceAll(err.Error(), work, dir))
	}
	if ps := menus.Check(after, cases.Operations, limit); len(ps) > 0 {
		for _, p := range ps {
			fmt.Fprintln(stdout, p)
		}
		return fmt.Errorf("%d problem(s) in the menus of %s with the import: nothing written", len(ps), dir)
	}
	if _, err := connectors(after, nil); err != nil {
		return fmt.Errorf("%v: nothing written", err)
	}
	for _, p := range append(written, home) {
		rel, _ := filepath.Rel(work, p)
		if err := replaceFile(filepath.Join(dir, rel), p); err != nil {
			return err
		}
		if p != home {
			fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(dir, rel))
		}
	}
	if len(ids) > 0 {
		fmt.Fprintf(stdout, "added %s to services: in %s\n", strings.Join(ids, ", "), filepath.Join(dir, menus.CatalogueFile))
	}
	fmt.Fprintf(stdout, "ok: menus check passes on %s (%d services); guichet serve --menus %s serves them\n", dir, len(after.Services), dir)
	return nil
}

// replaceFile puts the file from in place of to, through a rename in to's
// folder so that no reader sees half a file.
func replaceFile(to, from string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	tmp := to + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", to, err)
	}
	if err := os.Rename(tmp, to); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", to, err)
	}
	return nil
}

// addToHome appends service ids to the services: list of a catalogue
// file, keeping its comments.
func addToHome(file string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("reading the catalogue: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return fmt.Errorf("%s: not a catalogue mapping (%v)", file, err)
	}
	root := doc.Content[0]
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "services" {
			list = root.Content[i+1]
		}
	}
	if list == nil || list.Kind != yaml.SequenceNode {
		return fmt.Errorf("%s: no services: list to add %s to", file, strings.Join(ids, ", "))
	}
	for _, id := range ids {
		list.Content = append(list.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: id})
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return fmt.Errorf("writing the catalogue: %w", err)
	}
	enc.Close()
	return os.WriteFile(file, b.Bytes(), 0o644)
}

// mapFlag reads repeated --map APPLICATION=OPERATION.
type mapFlag map[string]string

func (m mapFlag) String() string { return "" }

func (m mapFlag) Set(v string) error {
	app, op, ok := strings.Cut(v, "=")
	if app, op = strings.TrimSpace(app), strings.TrimSpace(op); !ok || app == "" || op == "" {
		return fmt.Errorf("%q: want APPLICATION=OPERATION, as default_application=cases.open", v)
	}
	m[app] = op
	return nil
}

func writeServices(out string, files []xpdl.File, force bool) ([]string, error) {
	dir, first := out, ""
	if st, err := os.Stat(out); (err != nil || !st.IsDir()) && (strings.HasSuffix(out, ".yaml") || strings.HasSuffix(out, ".yml")) {
		dir, first = filepath.Dir(out), out
	}
	main := 0
	for i, f := range files {
		if f.Main {
			main = i
			break
		}
	}
	paths := make([]string, len(files))
	by := map[string]string{} // path → service
	var exist []string
	for i, f := range files {
		p := filepath.Join(dir, f.Name)
		if i == main && first != "" {
			p = first
		}
		if other, ok := by[filepath.Clean(p)]; ok {
			return nil, fmt.Errorf("services %s and %s would both be written to %s: choose another --out", other, f.Service, p)
		}
		by[filepath.Clean(p)] = f.Service
		paths[i] = p
		if _, err := os.Stat(p); err == nil {
			exist = append(exist, p)
		}
	}
	if len(exist) > 0 && !force {
		return nil, fmt.Errorf("%s already exist(s): nothing written; --force overwrites", strings.Join(exist, ", "))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if !force {
		flags |= os.O_EXCL
	}
	var written []string
	for i, f := range files {
		if err := writeService(paths[i], f.YAML, flags); err != nil {
			return written, err
		}
		written = append(written, paths[i])
	}
	return written, nil
}

func writeService(path string, data []byte, flags int) error {
	fh, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return err
	}
	_, err = fh.Write(data)
	return errors.Join(err, fh.Close())
}
