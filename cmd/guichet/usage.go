package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// flags is a subcommand's flag set with its usage. The flag package
// prints nothing itself: --help and -h print the usage and the flags to
// the command's standard output and Parse answers flag.ErrHelp, which run
// treats as success; a wrong flag comes back as an error that points to
// --help, printed once by main.
type flags struct {
	*flag.FlagSet
	usage  string // "usage: guichet NAME …" line(s), then what it does
	stdout io.Writer
}

func newFlags(name, usage string, stdout io.Writer) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flags{FlagSet: fs, usage: usage, stdout: stdout}
}

// Parse parses args as flag.FlagSet.Parse does.
func (f *flags) Parse(args []string) error {
	err := f.FlagSet.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		f.printUsage(f.stdout)
		return flag.ErrHelp
	}
	if err != nil {
		return fmt.Errorf("%s: %w (guichet %s --help)", f.Name(), err, f.Name())
	}
	return nil
}

func (f *flags) printUsage(w io.Writer) {
	fmt.Fprintln(w, strings.TrimRight(f.usage, "\n"))
	n := 0
	f.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(w, "\nflags:")
		f.SetOutput(w)
		f.PrintDefaults()
		f.SetOutput(io.Discard)
	}
}

// isHelp says whether arg asks for help, for the commands whose first
// arguments are not flags (users add NAME, citizen export PHONE).
func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// groupHelp answers a command made of verbs (apikey, users, citizen,
// menus): its usage on standard output when asked for, else an error
// holding it.
func groupHelp(args []string, usage string, stdout io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintln(stdout, usage)
		return flag.ErrHelp
	}
	return errors.New(usage)
}
