package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/postgres"
	"github.com/guichet/guichet/staff"
)

// accountAdder is what making the first administrator needs.
type accountAdder interface {
	Users(ctx context.Context) ([]staff.User, error)
	AddUser(ctx context.Context, u staff.User) error
}

// firstAdmin creates the console's first administrator when there is no
// account yet, with a one-time password printed once: they must choose
// their own at first sign-in.
func firstAdmin(ctx context.Context, store accountAdder, now time.Time, stdout io.Writer, consoleURL string) error {
	users, err := store.Users(ctx)
	if err != nil {
		return fmt.Errorf("listing console accounts: %w", err)
	}
	if len(users) > 0 {
		return nil
	}
	password := staff.OneTimePassword()
	u, err := staff.NewUser("admin", "Administrator", staff.Admin, "fr", password, now)
	if err != nil {
		return err
	}
	u.MustChange = true
	if err := store.AddUser(ctx, u); err != nil {
		if guichet.ErrorCode(err) == guichet.ECONFLICT {
			return nil // another gateway starting on the same database made it
		}
		return fmt.Errorf("creating the first administrator: %w", err)
	}
	fmt.Fprintf(stdout, "Hotline console %s — first administrator (shown once; to be changed at first sign-in):\n  name: admin\n  password: %s\n\n",
		consoleURL, password)
	return nil
}

// usersCmd is `guichet users add NAME --role ROLE [--lang fr|en]
// [--name FULL NAME]`: the password is read from standard input (one
// line), or made and printed when standard input is empty.
func usersCmd(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, getenv func(string) string) error {
	const usage = "usage: guichet users add NAME --role operator|supervisor|admin [--lang fr|en] [--full-name TEXT] [--database URL] < password"
	if len(args) < 2 || args[0] != "add" {
		return fmt.Errorf("%s", usage)
	}
	name := args[1]
	fs := flag.NewFlagSet("users add", flag.ContinueOnError)
	role := fs.String("role", "operator", "`role`: operator, supervisor or admin")
	lang := fs.String("lang", "fr", "the console's `language` for this user: fr or en")
	full := fs.String("full-name", "", "the person's full `name`")
	dbURL := fs.String("database", getenv("DATABASE_URL"), "PostgreSQL `URL` (default: $DATABASE_URL)")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	if *dbURL == "" {
		return fmt.Errorf("users add needs a database (--database or DATABASE_URL): the embedded default keeps accounts in memory; add them on the console's Accounts page")
	}
	password, generated := "", false
	if stdin != nil {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("reading the password: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	if password == "" {
		password, generated = staff.OneTimePassword(), true
	}
	u, err := staff.NewUser(name, *full, staff.Role(*role), *lang, password, time.Now())
	if err != nil {
		return err
	}
	u.MustChange = generated
	pool, err := postgres.Open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := postgres.New(pool).Console().AddUser(ctx, u); err != nil {
		return fmt.Errorf("adding %s: %w", u.Name, err)
	}
	fmt.Fprintf(stdout, "account %s (%s) added\n", u.Name, u.Role)
	if generated {
		fmt.Fprintf(stdout, "one-time password (shown once; to be changed at first sign-in): %s\n", password)
	}
	return nil
}
