package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/guichet/guichet/adapters"
	"github.com/guichet/guichet/menus"
)

func menusCmd(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: guichet menus check|graph [DIR]")
	}
	fs := flag.NewFlagSet("menus "+args[0], flag.ContinueOnError)
	limit := fs.Int("limit", menus.DefaultLimit, "screen limit in GSM-7 characters (160 for operators that cut there)")
	format := fs.String("format", "mermaid", "graph format: mermaid or dot")
	lang := fs.String("lang", "fr", "language of the graph's labels")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	dir := fs.Arg(0)
	cat, err := loadCatalogue(dir)
	if err != nil {
		return err
	}
	switch args[0] {
	case "check":
		ps := menus.Check(cat, adapters.Operations, *limit)
		for _, p := range ps {
			fmt.Fprintln(stdout, p)
		}
		if len(ps) > 0 {
			return fmt.Errorf("%d problem(s) in the menus", len(ps))
		}
		if _, err := connectors(cat); err != nil {
			fmt.Fprintln(stdout, err)
			return fmt.Errorf("the menus' backends do not hold together")
		}
		fmt.Fprintf(stdout, "ok: %d services, every screen within %d characters\n", len(cat.Services), *limit)
		return nil
	case "graph":
		return menus.Graph(stdout, cat, *format, *lang)
	}
	return fmt.Errorf("unknown menus command %q (check or graph)", args[0])
}
