package postgres

import (
	"context"

	"github.com/guichet/guichet/cases"
	"github.com/jackc/pgx/v5"
)

// SetOptOut records that phone sent STOP (out) or START (!out): a phone
// that opted out gets no more notifications. Either is idempotent; a
// repeated STOP keeps the time of the first.
func (s *Cases) SetOptOut(ctx context.Context, phone string, out bool) error {
	if err := cases.CheckOptOutPhone(phone); err != nil {
		return err
	}
	var err error
	if out {
		_, err = s.q().Exec(ctx, `INSERT INTO optouts (phone, at) VALUES ($1, $2)
			ON CONFLICT (phone) DO NOTHING`, phone, s.now())
	} else {
		_, err = s.q().Exec(ctx, `DELETE FROM optouts WHERE phone = $1`, phone)
	}
	if err != nil {
		return fail(ctx, "recording an opt-out", err)
	}
	return nil
}

// OptedOut reports whether phone sent STOP and not START since.
func (s *Cases) OptedOut(ctx context.Context, phone string) (bool, error) {
	var out bool
	if err := s.q().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM optouts WHERE phone = $1)`, phone).Scan(&out); err != nil {
		return false, fail(ctx, "looking up an opt-out", err)
	}
	return out, nil
}

// OptedOutAmong returns those of phones that sent STOP, in one query.
func (s *Cases) OptedOutAmong(ctx context.Context, phones []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(phones) == 0 {
		return out, nil
	}
	rows, _ := s.q().Query(ctx, `SELECT phone FROM optouts WHERE phone = ANY($1)`, phones)
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fail(ctx, "looking up opt-outs", err)
	}
	for _, p := range got {
		out[p] = true
	}
	return out, nil
}

// Citizens returns, in one query, those of phones that sent STOP and the
// language of each that the gateway knows: the one chosen on the phone,
// else the latest case's.
func (s *Cases) Citizens(ctx context.Context, phones []string) (map[string]bool, map[string]string, error) {
	out, langs := map[string]bool{}, map[string]string{}
	if len(phones) == 0 {
		return out, langs, nil
	}
	rows, _ := s.q().Query(ctx, `SELECT p, EXISTS (SELECT 1 FROM optouts o WHERE o.phone = p),
			coalesce((SELECT g.lang FROM languages g WHERE g.phone = p AND g.lang IN ('fr', 'en')),
				(SELECT lang FROM cases c WHERE c.phone = p AND c.lang <> '' ORDER BY opened DESC LIMIT 1), '')
		FROM unnest($1::text[]) AS p`, phones)
	type row struct {
		Phone string
		Out   bool
		Lang  string
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		return nil, nil, fail(ctx, "looking up citizens", err)
	}
	for _, r := range got {
		if r.Out {
			out[r.Phone] = true
		}
		if r.Lang != "" {
			langs[r.Phone] = r.Lang
		}
	}
	return out, langs, nil
}
