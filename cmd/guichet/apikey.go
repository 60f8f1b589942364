package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"

	"github.com/guichet/guichet/apikey"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/postgres"
)

// demoKeys gives each administration of the catalogue a key on the embedded
// default, printed once, so that a newcomer can try the API.
func demoKeys(ctx context.Context, keys keyStore, cat cases.Catalogue, stdout io.Writer) error {
	owners := map[string]bool{}
	for _, id := range cat.ServiceIDs() {
		if o := cat.Owner(id); o != "" {
			owners[o] = true
		}
	}
	names := make([]string, 0, len(owners))
	for o := range owners {
		names = append(names, o)
	}
	sort.Strings(names)
	fmt.Fprintln(stdout, "API keys of this run (in memory, gone when it stops):")
	for _, o := range names {
		k := apikey.New()
		if err := keys.AddAPIKey(ctx, o, "demo", apikey.Hash(k)); err != nil {
			return fmt.Errorf("adding a demo API key: %w", err)
		}
		fmt.Fprintf(stdout, "  %-22s %s\n", o, k)
	}
	fmt.Fprintln(stdout)
	return nil
}

// apikeyCmd is `guichet apikey add --owner ADMINISTRATION [--label TEXT]`:
// it stores a new key's hash in PostgreSQL and prints the key, once.
func apikeyCmd(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "add" {
		return fmt.Errorf("usage: guichet apikey add --owner ADMINISTRATION [--label TEXT] [--database URL]")
	}
	fs := flag.NewFlagSet("apikey add", flag.ContinueOnError)
	owner := fs.String("owner", "", "the `administration` the key acts for (a service file's owner)")
	label := fs.String("label", "", "what the key is for, for people")
	dbURL := fs.String("database", getenv("DATABASE_URL"), "PostgreSQL `URL` (default: $DATABASE_URL)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *owner == "" || *dbURL == "" {
		return fmt.Errorf("apikey add needs --owner and a database (--database or DATABASE_URL)")
	}
	cat, err := loadCatalogue("")
	if err != nil {
		return err
	}
	known := false
	for _, id := range cat.ServiceIDs() {
		known = known || cat.Owner(id) == *owner
	}
	if !known {
		return fmt.Errorf("no service of the catalogue is owned by %q", *owner)
	}
	pool, err := postgres.Open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	k := apikey.New()
	if err := postgres.New(pool).Keys().AddAPIKey(ctx, *owner, *label, apikey.Hash(k)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "API key for %s (shown once; only its hash is kept):\n%s\n", *owner, k)
	return nil
}

// migrateCmd is `guichet migrate [--database URL]`.
func migrateCmd(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	dbURL := fs.String("database", getenv("DATABASE_URL"), "PostgreSQL `URL` (default: $DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dbURL == "" {
		return fmt.Errorf("migrate needs a database (--database or DATABASE_URL)")
	}
	if err := postgres.Migrate(ctx, *dbURL); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "database schema up to date")
	return nil
}
