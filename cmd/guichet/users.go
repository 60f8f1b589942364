package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/guichet/guichet/postgres"
	"github.com/guichet/guichet/staff"
)

// accountAdder is what making the first administrator needs.
type accountAdder interface {
	Users(ctx context.Context) ([]staff.User, error)
	AddUser(ctx context.Context, u staff.User) error
}

// firstAdmin creates the embedded default's first administrator when
// there is no account yet, with a one-time password printed once: they
// must choose their own at first sign-in, within valid. Only in memory (a
// demo that forgets it at exit): on PostgreSQL no password goes to the
// gateway's output, which is its log; `guichet users add` makes the
// first administrator (noAccountYet says so).
func firstAdmin(ctx context.Context, store accountAdder, now time.Time, valid time.Duration, stdout io.Writer, consoleURL string) error {
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
	u.OneTime(now, valid)
	if err := store.AddUser(ctx, u); err != nil {
		return fmt.Errorf("creating the first administrator: %w", err)
	}
	fmt.Fprintf(stdout, "Hotline console %s — first administrator (shown once; to be changed at first sign-in):\n  name: admin\n  password: %s\n\n",
		consoleURL, password)
	return nil
}

// noAccountYet warns, on a database with no console account, how to make
// the first administrator.
func noAccountYet(ctx context.Context, store accountAdder, log *slog.Logger) error {
	users, err := store.Users(ctx)
	if err != nil {
		return fmt.Errorf("listing console accounts: %w", err)
	}
	if len(users) == 0 {
		log.Warn("the hotline console has no account yet: create the first administrator with `guichet users add admin --role admin` (it prints a one-time password)")
	}
	return nil
}

// usersCmd is `guichet users add NAME --role ROLE [--lang fr|en]
// [--full-name TEXT] [--one-time-for D]` and `guichet users password NAME
// [--one-time-for D]`: the password is read from standard input (one
// line), or, when standard input is empty, a one-time one is made and
// printed on this command's output, valid for --one-time-for and to be
// changed at first sign-in. `password` gives an account a new password
// (a forgotten one, an expired one-time one) and ends its sessions.
func usersCmd(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, getenv func(string) string) error {
	const usage = "usage: guichet users add NAME --role operator|supervisor|admin [--lang fr|en] [--full-name TEXT] [--one-time-for 24h] [--database URL] < password\n" +
		"       guichet users password NAME [--one-time-for 24h] [--database URL] < password"
	if len(args) == 0 || isHelp(args[0]) {
		return groupHelp(args, usage, stdout)
	}
	if args[0] != "add" && args[0] != "password" {
		return fmt.Errorf("%s", usage)
	}
	verb := args[0]
	fs := newFlags("users "+verb, usage, stdout)
	var role, lang, full *string
	if verb == "add" {
		role = fs.String("role", "operator", "`role`: operator, supervisor or admin")
		lang = fs.String("lang", "fr", "the console's `language` for this user: fr or en")
		full = fs.String("full-name", "", "the person's full `name`")
	}
	valid := fs.Duration("one-time-for", staff.OneTimeFor, "how long a generated one-time password signs in")
	dbURL := fs.String("database", getenv("DATABASE_URL"), "PostgreSQL `URL` (default: $DATABASE_URL)")
	if len(args) < 2 || isHelp(args[1]) { // users add --help
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return fmt.Errorf("%s", usage)
	}
	name := args[1]
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	if *dbURL == "" {
		return fmt.Errorf("users %s needs a database (--database or DATABASE_URL): the embedded default keeps accounts in memory; add them on the console's Accounts page", verb)
	}
	if *valid <= 0 {
		return fmt.Errorf("--one-time-for must be positive")
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
	now := time.Now()
	pool, err := postgres.Open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := postgres.New(pool).Console()
	var u staff.User
	if verb == "add" {
		if u, err = staff.NewUser(name, *full, staff.Role(*role), *lang, password, now); err != nil {
			return err
		}
		if generated {
			u.OneTime(now, *valid)
		}
		if err := store.AddUser(ctx, u); err != nil {
			return fmt.Errorf("adding %s: %w", u.Name, err)
		}
		fmt.Fprintf(stdout, "account %s (%s) added\n", u.Name, u.Role)
	} else {
		if u, err = store.User(ctx, strings.ToLower(strings.TrimSpace(name))); err != nil {
			return fmt.Errorf("finding %s: %w", name, err)
		}
		if err := staff.CheckNewPassword(u.Name, password, u.Hash); err != nil {
			return err
		}
		if u.Hash, err = staff.HashPassword(password); err != nil {
			return err
		}
		u.MustChange, u.PasswordExpires = false, time.Time{}
		if generated {
			u.OneTime(now, *valid)
		}
		if err := store.UpdateUser(ctx, u); err != nil {
			return fmt.Errorf("setting the password of %s: %w", u.Name, err)
		}
		if err := store.DeleteSessions(ctx, u.Name, ""); err != nil {
			return fmt.Errorf("ending the sessions of %s: %w", u.Name, err)
		}
		fmt.Fprintf(stdout, "password of %s set; their sessions ended\n", u.Name)
	}
	if err := store.Audit(ctx, staff.AuditEntry{At: now, User: "(command line)", Action: "user." + verb, Subject: u.Name, Detail: string(u.Role)}); err != nil {
		return err
	}
	if generated {
		fmt.Fprintf(stdout, "one-time password (shown once; to be changed at first sign-in, before %s): %s\n",
			u.PasswordExpires.Format("2006-01-02 15:04 MST"), password)
	}
	return nil
}
