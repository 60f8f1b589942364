package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/staff"
)

// The console's store: Console keeps what staff.Memory keeps and passes the
// same contract suite (stafftest). Unlike Memory, it keeps every audit
// entry and every session record.

const userColumns = `name, full_name, role, lang, hash, must_change, password_expires, created`

func scanUser(row pgx.CollectableRow) (staff.User, error) {
	var u staff.User
	var expires *time.Time
	err := row.Scan(&u.Name, &u.FullName, &u.Role, &u.Lang, &u.Hash, &u.MustChange, &expires, &u.Created)
	if expires != nil {
		u.PasswordExpires = *expires
	}
	return u, err
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
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (name) DO NOTHING`,
		u.Name, u.FullName, u.Role, u.Lang, hash(u.Hash), u.MustChange, orNull(u.PasswordExpires), u.Created)
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

// UpdateUser implements stafftest.Accounts: the creation time stays as it
// is.
func (s *Console) UpdateUser(ctx context.Context, u staff.User) error {
	tag, err := s.q().Exec(ctx, `UPDATE console_users
		SET full_name = $2, role = $3, lang = $4, hash = $5, must_change = $6, password_expires = $7
		WHERE name = $1`, u.Name, u.FullName, u.Role, u.Lang, hash(u.Hash), u.MustChange, orNull(u.PasswordExpires))
	if err != nil {
		return fail(ctx, "updating a console user", err)
	}
	if tag.RowsAffected() == 0 {
		return fail(ctx, "updating a console user", guichet.Errorf(guichet.ENOTFOUND, "user not found"))
	}
	return nil
}

// Attempt implements stafftest.Accounts: the failures are the fleet's.
// Each key is held by a transaction-scoped advisory lock, taken in the
// keys' order, so that attempts on a key are counted one after the other
// even before it has a row; a refused attempt writes nothing, so that
// guesses of ever new names from an address that waits add no rows.
func (s *Console) Attempt(ctx context.Context, now time.Time, strikes []staff.Strike) (staff.Verdict, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return staff.Verdict{}, fail(ctx, "counting a sign-in attempt", err)
	}
	defer rollback(ctx, tx)
	kept, err := lockStrikes(ctx, tx, now, strikes)
	if err != nil {
		return staff.Verdict{}, fail(ctx, "counting a sign-in attempt", err)
	}
	v := staff.Verdict{Failures: map[string]int{}}
	for _, st := range strikes {
		k := kept[st.Key]
		v.Failures[st.Key] = k.failures
		if now.Before(k.until) {
			v.Waiting = append(v.Waiting, st.Key)
			if k.until.After(v.Until) {
				v.Until = k.until
			}
		}
	}
	if len(v.Waiting) > 0 {
		return v, nil
	}
	v.OK = true
	var (
		keys          []string
		failures      []int
		until, forget []time.Time
	)
	for _, st := range strikes {
		n := kept[st.Key].failures + 1
		v.Failures[st.Key] = n
		keys, failures = append(keys, st.Key), append(failures, n)
		until, forget = append(until, staff.WaitUntil(now, st.Backoff.Delay(n))), append(forget, now.Add(st.Backoff.Forget))
	}
	// A forgotten key's row is written over as new, notice included.
	if _, err := tx.Exec(ctx, `INSERT INTO console_throttle AS t (key, failures, last, until, forget)
		SELECT k, f, $5, u, g FROM unnest($1::text[], $2::integer[], $3::timestamptz[], $4::timestamptz[]) AS s (k, f, u, g)
		ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last = excluded.last, until = excluded.until,
			forget = excluded.forget, noticed = CASE WHEN t.forget > excluded.last THEN t.noticed END`,
		keys, failures, until, forget, now); err != nil {
		return staff.Verdict{}, fail(ctx, "counting a sign-in attempt", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM console_throttle WHERE forget <= $1`, now); err != nil {
		return staff.Verdict{}, fail(ctx, "forgetting old sign-in failures", err)
	}
	if err := commit(ctx, tx); err != nil {
		return staff.Verdict{}, fail(ctx, "counting a sign-in attempt", err)
	}
	return v, nil
}

// strikeRow is a key's failures as stored.
type strikeRow struct {
	failures    int
	last, until time.Time
}

// lockStrikes takes the advisory lock of each key of strikes, in order,
// and returns their failures that are not forgotten at now.
func lockStrikes(ctx context.Context, tx pgx.Tx, now time.Time, strikes []staff.Strike) (map[string]strikeRow, error) {
	keys := make([]string, 0, len(strikes))
	for _, st := range strikes {
		keys = append(keys, st.Key)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	for _, k := range keys {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('console_throttle:' || $1, 0))`, k); err != nil {
			return nil, fmt.Errorf("waiting for another attempt on the same key: %w", err)
		}
	}
	rows, err := tx.Query(ctx, `SELECT key, failures, last, until FROM console_throttle WHERE key = ANY($1) AND forget > $2`, keys, now)
	if err != nil {
		return nil, err
	}
	kept := map[string]strikeRow{}
	var (
		key string
		r   strikeRow
	)
	_, err = pgx.ForEachRow(rows, []any{&key, &r.failures, &r.last, &r.until}, func() error {
		kept[key] = r
		return nil
	})
	return kept, err
}

// Succeeded implements stafftest.Accounts.
func (s *Console) Succeeded(ctx context.Context, now time.Time, strikes []staff.Strike) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fail(ctx, "taking back a sign-in attempt", err)
	}
	defer rollback(ctx, tx)
	kept, err := lockStrikes(ctx, tx, now, strikes)
	if err != nil {
		return fail(ctx, "taking back a sign-in attempt", err)
	}
	for _, st := range strikes {
		k, ok := kept[st.Key]
		switch {
		case !ok:
		case !st.Shared || k.failures <= 1:
			_, err = tx.Exec(ctx, `DELETE FROM console_throttle WHERE key = $1`, st.Key)
		default:
			_, err = tx.Exec(ctx, `UPDATE console_throttle SET failures = $2, until = $3 WHERE key = $1`,
				st.Key, k.failures-1, staff.WaitUntil(k.last, st.Backoff.Delay(k.failures-1)))
		}
		if err != nil {
			return fail(ctx, "taking back a sign-in attempt", err)
		}
	}
	if err := commit(ctx, tx); err != nil {
		return fail(ctx, "taking back a sign-in attempt", err)
	}
	return nil
}

// Noticed implements stafftest.Accounts.
func (s *Console) Noticed(ctx context.Context, key string, now time.Time, every time.Duration) (bool, error) {
	tag, err := s.q().Exec(ctx, `UPDATE console_throttle SET noticed = $2
		WHERE key = $1 AND forget > $2 AND (noticed IS NULL OR noticed <= $3)`, key, now, now.Add(-every))
	if err != nil {
		return false, fail(ctx, "noticing sign-in failures", err)
	}
	return tag.RowsAffected() == 1, nil
}

// CreateSession implements stafftest.Accounts: ENOTFOUND if sess.User has no
// account, ECONFLICT if a session has sess.TokenHash. It then deletes the
// sessions expired at sess.Created: sign-ins are rare, and the index on
// expires makes it cheap.
func (s *Console) CreateSession(ctx context.Context, sess staff.Session) error {
	db := s.q()
	if sess.LastSeen.IsZero() {
		sess.LastSeen = sess.Created
	}
	tag, err := db.Exec(ctx, `INSERT INTO console_sessions (token_hash, username, csrf, created, expires, last_seen)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (token_hash) DO NOTHING`,
		sess.TokenHash, sess.User, sess.CSRF, sess.Created, sess.Expires, sess.LastSeen)
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

// Session implements stafftest.Accounts: a session ends at its Expires,
// or idle after its LastSeen, which it moves to now; an ended one is
// deleted when it is asked for.
func (s *Console) Session(ctx context.Context, tokenHash string, now time.Time, idle time.Duration) (staff.Session, error) {
	rows, err := s.q().Query(ctx, `UPDATE console_sessions SET last_seen = GREATEST(last_seen, $2)
		WHERE token_hash = $1 AND expires > $2 AND ($3 OR last_seen > $4)
		RETURNING token_hash, username, csrf, created, expires, last_seen`, tokenHash, now, idle <= 0, now.Add(-idle))
	if err != nil {
		return staff.Session{}, fail(ctx, "finding a console session", err)
	}
	sess, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[staff.Session])
	if notFound(err) {
		if _, err := s.q().Exec(ctx, `DELETE FROM console_sessions WHERE token_hash = $1 AND (expires <= $2 OR NOT $3 AND last_seen <= $4)`,
			tokenHash, now, idle <= 0, now.Add(-idle)); err != nil {
			return staff.Session{}, fail(ctx, "deleting an ended console session", err)
		}
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

// DeleteSessions implements stafftest.Accounts.
func (s *Console) DeleteSessions(ctx context.Context, user, keep string) error {
	if _, err := s.q().Exec(ctx, `DELETE FROM console_sessions WHERE username = $1 AND token_hash <> $2`, user, keep); err != nil {
		return fail(ctx, "deleting an account's console sessions", err)
	}
	return nil
}

// Audit implements stafftest.Trail. IDs come from an identity column: they
// increase in the order entries are written, not always in the order
// their transactions commit.
func (s *Console) Audit(ctx context.Context, e staff.AuditEntry) error {
	shown := e.Shown
	if shown == nil {
		shown = []string{}
	}
	if _, err := s.q().Exec(ctx, `INSERT INTO audit_log (at, username, action, subject, detail, shown)
		VALUES ($1, $2, $3, $4, $5, $6)`, e.At, e.User, e.Action, e.Subject, e.Detail, shown); err != nil {
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
		// Either index: the subject's, or the GIN of what entries showed.
		and("(subject = $%[1]d OR shown @> ARRAY[$%[1]d::text])", f.Subject)
	}
	if f.Before > 0 {
		and("id < $%d", f.Before)
	}
	q := `SELECT id, at, username, action, subject, detail, shown FROM audit_log`
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
	for i := range entries {
		if len(entries[i].Shown) == 0 {
			entries[i].Shown = nil // as written: none
		}
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
