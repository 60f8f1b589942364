package postgres

import (
	"context"
	"strings"

	"github.com/guichet/guichet"
)

// Language returns the language phone chose, "" when it never chose: the
// ussd engine's Languages, which the session store only caches.
func (s *Cases) Language(ctx context.Context, ph string) (string, error) {
	var lang string
	err := s.q().QueryRow(ctx, `SELECT lang FROM languages WHERE phone = $1`, ph).Scan(&lang)
	if err != nil && !notFound(err) {
		return "", fail(ctx, "reading a language", err)
	}
	return lang, nil
}

// SetLanguage records the language phone chose, replacing an earlier
// choice.
func (s *Cases) SetLanguage(ctx context.Context, ph, lang string) error {
	if !strings.HasPrefix(ph, "+") || lang == "" {
		return guichet.Errorf(guichet.EINVALID, "a language needs a phone in E.164 and a language")
	}
	_, err := s.q().Exec(ctx, `INSERT INTO languages (phone, lang, at) VALUES ($1, $2, $3)
		ON CONFLICT (phone) DO UPDATE SET lang = excluded.lang, at = excluded.at`, ph, lang, s.now())
	if err != nil {
		return fail(ctx, "recording a language", err)
	}
	return nil
}
