package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/guichet/guichet"
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
		if err := keys.AddAPIKey(ctx, apikey.Key{Owner: o, Label: "demo", Created: time.Now()}, apikey.Hash(k)); err != nil {
			return fmt.Errorf("adding a demo API key: %w", err)
		}
		fmt.Fprintf(stdout, "  %-22s %s\n", o, k)
	}
	fmt.Fprintln(stdout)
	return nil
}

// apikeyCmd is `guichet apikey add|list|revoke`: keys of the
// administrations in PostgreSQL. add prints the new key once (only its
// hash is kept); list shows every key with its id, owner, expiry, last use
// and whether it was revoked; revoke ID ends a key at once.
func apikeyCmd(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string, now func() time.Time) error {
	const usage = "usage: guichet apikey add --owner ADMINISTRATION [--label TEXT] [--expires 2027-06-30 | --days 365] [--per-day N] [--per-second R]\n" +
		"       guichet apikey list\n       guichet apikey revoke KEY_ID\n(each with [--database URL], default $DATABASE_URL)"
	if len(args) == 0 || isHelp(args[0]) {
		return groupHelp(args, usage, stdout)
	}
	fs := newFlags("apikey "+args[0], usage, stdout)
	dbURL := fs.String("database", getenv("DATABASE_URL"), "PostgreSQL `URL` (default: $DATABASE_URL)")
	var owner, label, expires *string
	var days, perDay *int
	var perSecond *float64
	switch args[0] {
	case "add":
		owner = fs.String("owner", "", "the `administration` the key acts for (a service file's owner)")
		label = fs.String("label", "", "what the key is for, for people")
		expires = fs.String("expires", "", "the `date` (YYYY-MM-DD, Africa/Douala) from which the key is refused")
		days = fs.Int("days", 0, "the key is refused after this many `days` (0: never, unless --expires)")
		perDay = fs.Int("per-day", 0, "messages the key may send a day (0: 100,000)")
		perSecond = fs.Float64("per-second", 0, "requests the key may make a second (0: 20)")
	case "list", "revoke":
	default:
		return errors.New(usage)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *dbURL == "" {
		return fmt.Errorf("apikey %s needs a database (--database or DATABASE_URL)", args[0])
	}
	var k apikey.Key
	switch args[0] {
	case "add":
		if *owner == "" {
			return fmt.Errorf("apikey add needs --owner\n%s", usage)
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
		if *perDay < 0 || *perSecond < 0 {
			return errors.New("apikey add: --per-day and --per-second must not be negative")
		}
		k = apikey.Key{Owner: *owner, Label: *label, Created: now(), PerDay: *perDay, PerSecond: *perSecond}
		switch {
		case *expires != "" && *days != 0:
			return errors.New("apikey add: --expires or --days, not both")
		case *expires != "":
			d, err := time.ParseInLocation(time.DateOnly, *expires, cases.Cameroon)
			if err != nil {
				return fmt.Errorf("apikey add: --expires %q is not a date like 2027-06-30", *expires)
			}
			k.Expires = d
		case *days < 0:
			return fmt.Errorf("apikey add: --days %d is negative", *days)
		case *days > 0:
			k.Expires = k.Created.AddDate(0, 0, *days)
		}
		if !k.Expires.IsZero() && !k.Expires.After(k.Created) {
			return fmt.Errorf("apikey add: the key would expire on %s, before it is made", k.Expires.Format(time.DateOnly))
		}
	case "revoke":
		if fs.NArg() != 1 {
			return fmt.Errorf("apikey revoke needs the key's id (guichet apikey list shows them)\n%s", usage)
		}
	}
	pool, err := postgres.Open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	keys := postgres.New(pool).Keys()
	switch args[0] {
	case "add":
		secret := apikey.New()
		hash := apikey.Hash(secret)
		if err := keys.AddAPIKey(ctx, k, hash); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "API key %s for %s (shown once; only its hash is kept):\n%s\n", apikey.ID(hash), k.Owner, secret)
	case "list":
		all, err := keys.APIKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tOWNER\tLABEL\tCREATED\tEXPIRES\tLAST USED\tLIMITS\tSTATE")
		day := func(t time.Time) string {
			if t.IsZero() {
				return "-"
			}
			return t.In(cases.Cameroon).Format("2006-01-02 15:04")
		}
		for _, k := range all {
			state := "in force"
			if err := k.Usable(now()); err != nil {
				state = guichet.ErrorMessage(err)
			}
			d, s := k.Limits()
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d/day %g/s\t%s\n", k.ID, k.Owner, cmp.Or(k.Label, "-"), day(k.Created), day(k.Expires), day(k.LastUsed), d, s, state)
		}
		return tw.Flush()
	case "revoke":
		if err := keys.RevokeAPIKey(ctx, fs.Arg(0), now()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "API key %s revoked: it is refused from now on\n", fs.Arg(0))
	}
	return nil
}

// migrateCmd is `guichet migrate [--database URL]`.
func migrateCmd(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	fs := newFlags("migrate", "usage: guichet migrate [--database URL]\n\nApply the database schema (goose migrations, embedded).", stdout)
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
