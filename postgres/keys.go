package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/apikey"
)

// AddAPIKey records k by its key's SHA-256 hash (the key itself is never
// stored); its ID comes from the hash. ECONFLICT if the hash is already
// recorded.
func (s *Keys) AddAPIKey(ctx context.Context, k apikey.Key, hash []byte) error {
	if err := apikey.Check(k, hash); err != nil {
		return err
	}
	tag, err := s.q().Exec(ctx, `INSERT INTO api_keys (hash, id, owner, label, created, expires, per_day, per_second)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT DO NOTHING`, hash, apikey.ID(hash), k.Owner, k.Label, k.Created, orNull(k.Expires), k.PerDay, k.PerSecond)
	if err != nil {
		return fail(ctx, "adding an API key", err)
	}
	if tag.RowsAffected() == 0 {
		return fail(ctx, "adding an API key", guichet.Errorf(guichet.ECONFLICT, "api key exists"))
	}
	return nil
}

const keyColumns = `id, owner, label, created, expires, last_used, revoked, callback_url, per_day, per_second`

func scanKey(row pgx.CollectableRow) (apikey.Key, error) {
	var k apikey.Key
	var expires, used, revoked *time.Time
	var perSecond float32
	err := row.Scan(&k.ID, &k.Owner, &k.Label, &k.Created, &expires, &used, &revoked, &k.CallbackURL, &k.PerDay, &perSecond)
	k.PerSecond = float64(perSecond)
	for _, t := range []struct {
		from *time.Time
		to   *time.Time
	}{{expires, &k.Expires}, {used, &k.LastUsed}, {revoked, &k.Revoked}} {
		if t.from != nil {
			*t.to = *t.from
		}
	}
	return k, err
}

// orNull is NULL for the zero time.
func orNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// APIKey returns the key whose SHA-256 hash is hash, usable or not:
// ENOTFOUND if there is none.
func (s *Keys) APIKey(ctx context.Context, hash []byte) (apikey.Key, error) {
	rows, _ := s.q().Query(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = $1`, hash)
	k, err := pgx.CollectExactlyOneRow(rows, scanKey)
	if notFound(err) {
		return apikey.Key{}, fail(ctx, "finding an API key", guichet.Errorf(guichet.ENOTFOUND, "api key not found"))
	}
	if err != nil {
		return apikey.Key{}, fail(ctx, "finding an API key", err)
	}
	return k, nil
}

// APIKeyByID returns the key named id, usable or not: ENOTFOUND if there
// is none (campaigns charged to their key; not the requests' path).
func (s *Keys) APIKeyByID(ctx context.Context, id string) (apikey.Key, error) {
	rows, _ := s.q().Query(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1`, id)
	k, err := pgx.CollectExactlyOneRow(rows, scanKey)
	if notFound(err) {
		return apikey.Key{}, fail(ctx, "finding an API key", guichet.Errorf(guichet.ENOTFOUND, "no api key %s", id))
	}
	if err != nil {
		return apikey.Key{}, fail(ctx, "finding an API key", err)
	}
	return k, nil
}

// APIKeys returns every key, the newest first.
func (s *Keys) APIKeys(ctx context.Context) ([]apikey.Key, error) {
	rows, _ := s.q().Query(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY created DESC, id`)
	keys, err := pgx.CollectRows(rows, scanKey)
	if err != nil {
		return nil, fail(ctx, "listing API keys", err)
	}
	return keys, nil
}

// RevokeAPIKey revokes the key named id at at, for good: ENOTFOUND if there
// is none; revoking it again keeps the first date.
func (s *Keys) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	tag, err := s.q().Exec(ctx, `UPDATE api_keys SET revoked = coalesce(revoked, $2) WHERE id = $1`, id, at)
	if err != nil {
		return fail(ctx, "revoking an API key", err)
	}
	if tag.RowsAffected() == 0 {
		return fail(ctx, "revoking an API key", guichet.Errorf(guichet.ENOTFOUND, "no api key %s", id))
	}
	return nil
}

// TouchAPIKey records that the key named id was used at at, if its last
// use is older than apikey.TouchEvery: a key used all day is written once a
// minute.
func (s *Keys) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	if _, err := s.q().Exec(ctx, `UPDATE api_keys SET last_used = $2
		WHERE id = $1 AND (last_used IS NULL OR last_used <= $2::timestamptz - $3::interval)`, id, at, apikey.TouchEvery.String()); err != nil {
		return fail(ctx, "recording the use of an API key", err)
	}
	return nil
}
