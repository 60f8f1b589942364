// Command guichet is the gateway: serve, config check, dial, menus check, menus graph,
// menus import-xpdl, users add, apikey add, citizen export|erase, migrate, smsc, loadgen, version.
// main only wires the parts together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"
)

const usage = `guichet — USSD gateway to public services

  guichet serve [--config FILE] [--http ADDR] [--redis URL] [--database URL] [--migrate] [--seed] [--menus DIR]
                                      run the gateway (in-memory stores unless configured)
  guichet smsc [--smpp ADDR] [--http ADDR] [--receipt-delay D] [--throttle-every N] [--drop-after N]
                                      an SMSC simulator for demos and tests
  guichet config check FILE           validate a configuration as serve reads it (file, then environment)
                                      and print it in effect, secrets masked
  guichet migrate [--database URL]    apply the database schema (DATABASE_URL)
  guichet apikey add --owner ADMIN [--label TEXT] [--expires DATE | --days N] [--per-day N] [--per-second R]
                                      create a ministry API key (printed once)
  guichet apikey list | revoke KEY_ID the keys, their last use; end one at once
  guichet dial [--url URL] [--phone N] [--lang fr|en] CODE
                                      a phone in the terminal: walk the menus of CODE (*123#)
  guichet menus check [--limit N] [DIR]
                                      validate service files (default: the built-in catalogue)
  guichet menus graph [--format mermaid|dot] [--lang fr|en] [DIR]
                                      print the menus as a diagram
  guichet menus import-xpdl [--out FILE|DIR] [--service ID] [--limit N] [--menus DIR] FILE.xpdl
                                      turn XPDL workflows into service files, with a report
  guichet users add NAME --role operator|supervisor|admin [--lang fr|en] [--full-name TEXT] [--one-time-for D] < password
                                      add a hotline console account (PostgreSQL); the first: admin --role admin
  guichet users password NAME [--one-time-for D] < password
                                      set an account's password and end its sessions (PostgreSQL)
  guichet citizen export PHONE | erase PHONE --yes [--database URL] [--redis URL] [--by NAME]
                                      everything held about a number as JSON, or its erasure (audited)
  guichet version | --version        the module version, commit and Go version of this binary
  guichet loadgen [--callers N] [--duration D] [--baseline] [--redis URL]
                                      load the gateway in-process with simulated callers (make bench)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "guichet:", err)
		os.Exit(1)
	}
}

// run is the whole program, callable from tests. A subcommand's --help
// prints its usage and succeeds.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if err := command(ctx, args, stdin, stdout, stderr, getenv); !errors.Is(err, flag.ErrHelp) {
		return err
	}
	return nil
}

func command(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command")
	}
	// DATABASE_URL_FILE and REDIS_URL_FILE stand for DATABASE_URL and
	// REDIS_URL, for every command.
	getenv, err := fileEnv(getenv)
	if err != nil {
		return err
	}
	switch args[0] {
	case "serve":
		cfg, err := parseConfig(args[1:], getenv, stdout)
		if err != nil {
			return err
		}
		if getenv("GOGC") == "" { // else the runtime took it
			defer debug.SetGCPercent(debug.SetGCPercent(defaultGCPercent))
		}
		return serve(ctx, cfg, nil, stdout)
	case "config":
		return configCmd(args[1:], stdout, getenv)
	case "dial":
		return dial(ctx, args[1:], stdin, stdout)
	case "smsc":
		return smscCmd(ctx, args[1:], stdout)
	case "migrate":
		return migrateCmd(ctx, args[1:], stdout, getenv)
	case "apikey":
		return apikeyCmd(ctx, args[1:], stdout, getenv, time.Now)
	case "users":
		return usersCmd(ctx, args[1:], stdin, stdout, getenv)
	case "citizen":
		return citizenCmd(ctx, args[1:], stdout, getenv, time.Now)
	case "menus":
		return menusCmd(ctx, args[1:], stdout)
	case "loadgen":
		return loadgenCmd(ctx, args[1:], stdout, getenv)
	case "version", "--version":
		return versionCmd(args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// defaultGCPercent is the GC's target of serve when GOGC is not set: the
// gateway's live heap is small (sessions and cases are in Redis and
// PostgreSQL), and at GOGC's 100 the collector ran every few thousand SMS:
// 400 took a sixth off the gateway's CPU a message in the SMS benchmark
// (docs/BENCHMARKS.md). GOMEMLIMIT, which the Kubernetes manifest sets to
// the pod's memory limit, still bounds the heap.
const defaultGCPercent = 400
