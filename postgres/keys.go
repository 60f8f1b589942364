package postgres

import (
	"context"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/apikey"
)

// AddAPIKey records an API key of owner, the administration it acts for,
// by its SHA-256 hash: the key itself is never stored. ECONFLICT if the
// hash is already recorded.
func (s *Keys) AddAPIKey(ctx context.Context, owner, label string, hash []byte) error {
	if err := apikey.Check(owner, hash); err != nil {
		return err
	}
	tag, err := s.q().Exec(ctx, `INSERT INTO api_keys (hash, owner, label, created) VALUES ($1, $2, $3, $4)
		ON CONFLICT (hash) DO NOTHING`, hash, owner, label, s.now())
	if err != nil {
		return fail(ctx, "adding an API key", err)
	}
	if tag.RowsAffected() == 0 {
		return fail(ctx, "adding an API key", guichet.Errorf(guichet.ECONFLICT, "api key exists"))
	}
	return nil
}

// APIKeyOwner returns the owner of the API key whose SHA-256 hash is hash:
// ENOTFOUND if there is none.
func (s *Keys) APIKeyOwner(ctx context.Context, hash []byte) (string, error) {
	var owner string
	err := s.q().QueryRow(ctx, `SELECT owner FROM api_keys WHERE hash = $1`, hash).Scan(&owner)
	if notFound(err) {
		return "", fail(ctx, "finding an API key", guichet.Errorf(guichet.ENOTFOUND, "api key not found"))
	}
	if err != nil {
		return "", fail(ctx, "finding an API key", err)
	}
	return owner, nil
}
