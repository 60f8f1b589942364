package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/staff"
)

// The console's store: Console keeps what staff.Memory keeps and passes the
// same contract suite (stafftest). Unlike Memory, it keeps every audit
// entry and every session record.

const userColumns = `name, full_name, role, lang, hash, failures, locked_until, must_change, created`

func scanUser(row pgx.CollectableRow) (staff.User, error) {
	var u staff.User
	var locked *time.Time
	err := row.Scan(&u.Name, &u.FullName, &u.Role, &u.Lang, &u.Hash, &u.Failures, &locked, &u.MustChange, &u.Created)
	if locked != nil {
		u.LockedUntil = *locked
	}
	return u, err
}

// lockedUntil is a lock as an argument: NULL for none.
func lockedUntil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// hash is a password hash as an argument: never NULL.
func hash(h []byte) []byte {
	if h == nil {
		return []byte{}
	}
	return h
}

// AddUser implements stafftest.Accounts.
func (s *Console) AddUser(ctx context.Context, u staff.User) error {
	tag, err := s.q().Exec(ctx, `INSERT INTO console_users (`+userColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (name) DO NOTHING`,
		u.Name, u.FullName, u.Role, u.Lang, hash(u.Hash), u.Failures, lockedUntil(u.LockedUntil), u.MustChange, u.Created)
	if err != nil {
		return fail(ctx, "adding a console user", err)
	}
	if tag.RowsAffected() == 0 {
		return fail(ctx, "adding a console user", guichet.Errorf(guichet.ECONFLICT, "user exists"))
	}
	return nil
}

// User implements stafftest.Accounts.
func (s *Console) User(ctx context.Context, name string) (staff.User, error) {
	rows, err := s.q().Query(ctx, `SELECT `+userColumns+` FROM console_users WHERE name = $1`, name)
	if err != nil {
		return staff.User{}, fail(ctx, "finding a console user", err)
	}
	u, err := pgx.CollectExactlyOneRow(rows, scanUser)
	if notFound(err) {
		return staff.User{}, fail(ctx, "finding a console user", guichet.Errorf(guichet.ENOTFOUND, "user not found"))
	}
	if err != nil {
		return staff.User{}, fail(ctx, "finding a console user", err)
	}
	return u, nil
}

// Users implements stafftest.Accounts.
func (s *Console) Users(ctx context.Context) ([]staff.User, error) {
	rows, err := s.q().Query(ctx, `SELECT `+userColumns+` FROM console_users ORDER BY name`)
	if err != nil {
		return nil, fail(ctx, "listing console users", err)
	}
	users, err := pgx.CollectRows(rows, scanUser)
	if err != nil {
		return nil, fail(ctx, "listing console users", err)
	}
	return users, nil
}

// UpdateUser implements stafftest.Accounts: the failures, the lock and the
// creation time stay as they are.
func (s *Console) UpdateUser(ctx context.Context, u staff.User) error {
	tag, err := s.q().Exec(ctx, `UPDATE console_users
		SET full_name = $2, role = $3, lang = $4, hash = $5, must_change = $6
		WHERE name = $1`, u.Name, u.FullName, u.Role, u.Lang, hash(u.Hash), u.MustChange)
	if err != nil {
		return fail(ctx, "updating a console user", err)
	}
	if tag.RowsAffected() == 0 {
		return fail(ctx, "updating a console user", guichet.Errorf(guichet.ENOTFOUND, "user not found"))
	}
	return nil
}

// SignInAttempt implements stafftest.Accounts.
func (s *Console) SignInAttempt(ctx context.Context, name string, now time.Time, max int, lock time.Duration) (staff.User, bool, error) {
	// One UPDATE, so that parallel attempts are counted one after the
	// other; a lock that has ended restarts the count at this attempt.
	rows, err := s.q().Query(ctx, `UPDATE console_users
		SET failures = CASE WHEN locked_until IS NULL THEN failures + 1 ELSE 1 END,
			locked_until = CASE WHEN $2::integer > 0 AND (CASE WHEN locked_until IS NULL THEN failures + 1 ELSE 1 END) >= $2::integer
				THEN $3::timestamptz END
		WHERE name = $1 AND (locked_until IS NULL OR locked_until <= $4)
		RETURNING `+userColumns, name, max, now.Add(lock), now)
	if err != nil {
		return staff.User{}, false, fail(ctx, "counting a sign-in attempt", err)
	}
	u, err := pgx.CollectExactlyOneRow(rows, scanUser)
	if notFound(err) { // locked, or no such account
		u, err := s.User(ctx, name)
		return u, false, err
	}
	if err != nil {
		return staff.User{}, false, fail(ctx, "counting a sign-in attempt", err)
	}
	return u, true, nil
}

// SignedIn implements stafftest.Accounts; ENOTFOUND if there is no such
// account.
func (s *Console) SignedIn(ctx context.Context, name string) error {
	tag, err := s.q().Exec(ctx, `UPDATE console_users SET failures = 0, locked_until = NULL WHERE name = $1`, name)
	if err != nil {
		return fail(ctx, "clearing sign-in failures", err)
	}
	if tag.RowsAffected() == 0 {
		return fail(ctx, "clearing sign-in failures", guichet.Errorf(guichet.ENOTFOUND, "user not found"))
	}
	return nil
}

// CreateSession implements stafftest.Accounts: ENOTFOUND if sess.User has no
// account, ECONFLICT if a session has sess.TokenHash. It then deletes the
// sessions expired at sess.Created: sign-ins are rare, and the index on
// expires makes it cheap.
func (s *Console) CreateSession(ctx context.Context, sess staff.Session) error {
	db := s.q()
	tag, err := db.Exec(ctx, `INSERT INTO console_sessions (token_hash, username, csrf, created, expires)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token_hash) DO NOTHING`,
		sess.TokenHash, sess.User, sess.CSRF, sess.Created, sess.Expires)
	switch {
	case violates(err, "23503", "console_sessions_username_fkey"):
		return fail(ctx, "creating a console session", guichet.Errorf(guichet.ENOTFOUND, "user not found"))
	case err != nil:
		return fail(ctx, "creating a console session", err)
	case tag.RowsAffected() == 0:
		return fail(ctx, "creating a console session", guichet.Errorf(guichet.ECONFLICT, "session exists"))
	}
	if _, err := db.Exec(ctx, `DELETE FROM console_sessions WHERE expires <= $1`, sess.Created); err != nil {
		return fail(ctx, "deleting expired console sessions", err)
	}
	return nil
}

// Session implements stafftest.Accounts: a session expires at its Expires.
func (s *Console) Session(ctx context.Context, tokenHash string, now time.Time) (staff.Session, error) {
	rows, err := s.q().Query(ctx, `SELECT token_hash, username, csrf, created, expires FROM console_sessions
		WHERE token_hash = $1 AND expires > $2`, tokenHash, now)
	if err != nil {
		return staff.Session{}, fail(ctx, "finding a console session", err)
	}
	sess, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[staff.Session])
	if notFound(err) {
		return staff.Session{}, fail(ctx, "finding a console session", guichet.Errorf(guichet.ENOTFOUND, "session not found"))
	}
	if err != nil {
		return staff.Session{}, fail(ctx, "finding a console session", err)
	}
	return sess, nil
}

// DeleteSession implements stafftest.Accounts.
func (s *Console) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := s.q().Exec(ctx, `DELETE FROM console_sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fail(ctx, "deleting a console session", err)
	}
	return nil
}

// Audit implements stafftest.Trail. IDs come from an identity column: they
// increase in the order entries are written, not always in the order
// their transactions commit.
func (s *Console) Audit(ctx context.Context, e staff.AuditEntry) error {
	if _, err := s.q().Exec(ctx, `INSERT INTO audit_log (at, username, action, subject, detail)
		VALUES ($1, $2, $3, $4, $5)`, e.At, e.User, e.Action, e.Subject, e.Detail); err != nil {
		return fail(ctx, "writing to the audit log", err)
	}
	return nil
}

// AuditLog implements stafftest.Trail. Only the conditions f sets are
// written, so that each query can use its index, whatever plan is cached.
func (s *Console) AuditLog(ctx context.Context, f staff.AuditFilter) ([]staff.AuditEntry, error) {
	var (
		where []string
		args  []any
	)
	and := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.User != "" {
		and("username = $%d", f.User)
	}
	if f.Subject != "" {
		and("subject = $%d", f.Subject)
	}
	if f.Before > 0 {
		and("id < $%d", f.Before)
	}
	q := `SELECT id, at, username, action, subject, detail FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	args = append(args, guichet.PageSize(f.Limit))
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args))
	rows, err := s.q().Query(ctx, q, args...)
	if err != nil {
		return nil, fail(ctx, "reading the audit log", err)
	}
	entries, err := pgx.CollectRows(rows, pgx.RowToStructByPos[staff.AuditEntry])
	if err != nil {
		return nil, fail(ctx, "reading the audit log", err)
	}
	return entries, nil
}

// RecordSessions implements stafftest.Trail in one INSERT, in the order of
// rs.
func (s *Console) RecordSessions(ctx context.Context, rs []staff.SessionRecord) error {
	if len(rs) == 0 {
		return ctx.Err()
	}
	n := len(rs)
	at, duration := make([]time.Time, n), make([]time.Duration, n)
	phone, operator, service, node, result := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	hops := make([]int, n)
	for i, r := range rs {
		at[i], phone[i], operator[i], service[i], node[i], result[i] = r.At, r.Phone, r.Operator, r.Service, r.Node, r.Result
		hops[i], duration[i] = r.Hops, r.Duration
	}
	_, err := s.q().Exec(ctx, `INSERT INTO ussd_sessions (at, phone, operator, service, node, result, hops, duration)
		SELECT r.at, r.phone, r.operator, r.service, r.node, r.result, r.hops, r.duration
		FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::integer[], $8::interval[])
			WITH ORDINALITY AS r(at, phone, operator, service, node, result, hops, duration, n)
		ORDER BY r.n`, at, phone, operator, service, node, result, hops, duration)
	if err != nil {
		return fail(ctx, "recording sessions", err)
	}
	return nil
}

// RecentSessions implements stafftest.Trail: the latest to end first, and of
// those that ended at once the latest recorded.
func (s *Console) RecentSessions(ctx context.Context, phone string, limit int) ([]staff.SessionRecord, error) {
	rows, err := s.q().Query(ctx, `SELECT at, phone, operator, service, node, result, hops, duration
		FROM ussd_sessions WHERE phone = $1 ORDER BY at DESC, id DESC LIMIT $2`, phone, staff.RecentLimit(limit))
	if err != nil {
		return nil, fail(ctx, "listing a caller's sessions", err)
	}
	rs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[staff.SessionRecord])
	if err != nil {
		return nil, fail(ctx, "listing a caller's sessions", err)
	}
	return rs, nil
}

// SessionCounts implements stafftest.Trail: both counts come from one scan
// of the window (GROUPING SETS), so that they agree. Hour counts are
// ordered by hour then service, end counts by service, node and result,
// byte by byte (the columns' collation is "C") as staff.Memory orders
// them.
func (s *Console) SessionCounts(ctx context.Context, from, to time.Time) ([]staff.HourCount, []staff.EndCount, error) {
	rows, err := s.q().Query(ctx, `SELECT GROUPING(hour) = 1 AS ends, hour, service, node, result, count(*)
		FROM (SELECT date_trunc('hour', at AT TIME ZONE 'UTC') AS hour, service, node, result
			FROM ussd_sessions WHERE at >= $1 AND at < $2) s
		GROUP BY GROUPING SETS ((hour, service), (service, node, result))
		ORDER BY 1, 2, 3, 4, 5`, from, to)
	if err != nil {
		return nil, nil, fail(ctx, "counting sessions", err)
	}
	var (
		hours        []staff.HourCount
		ends         []staff.EndCount
		isEnd        bool
		hour         *time.Time
		node, result *string
		service      string
		n            int
	)
	_, err = pgx.ForEachRow(rows, []any{&isEnd, &hour, &service, &node, &result, &n}, func() error {
		switch {
		case isEnd && node != nil && result != nil:
			ends = append(ends, staff.EndCount{Service: service, Node: *node, Result: *result, N: n})
		case !isEnd && hour != nil:
			hours = append(hours, staff.HourCount{Hour: hour.UTC(), Service: service, N: n})
		default:
			return fmt.Errorf("a count without its hour, node or result")
		}
		return nil
	})
	if err != nil {
		return nil, nil, fail(ctx, "counting sessions", err)
	}
	return hours, ends, nil
}
