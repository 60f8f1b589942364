package postgres

import (
	"context"

	"github.com/guichet/guichet/cases"
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
