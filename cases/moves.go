package cases

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/reference"
)

// MoveCaseOnce is MoveCase for a back office that may send the same move
// twice (a retry after a timeout): a second call with the same key changes
// nothing and answers the case as it now is. Keys are the owner's own; one
// reused for another case is refused (ECONFLICT). An empty key is MoveCase.
func (s *Service) MoveCaseOnce(ctx context.Context, ref string, m Move, owner, key string) (Case, error) {
	if key == "" {
		return s.MoveCase(ctx, ref, m, owner)
	}
	ref = strings.TrimSpace(ref)
	res, err := s.DB.Once(ctx, "cases.move", owner+"|"+key, func(ctx context.Context, tx Store) (menus.Result, error) {
		c, err := s.moveCase(ctx, tx, ref, m, owner)
		if err != nil {
			return menus.Result{}, err
		}
		return menus.Result{Vars: map[string]string{"ref": c.Ref}}, nil
	})
	if err != nil {
		return Case{}, err
	}
	if res.Vars["ref"] != ref {
		return Case{}, guichet.Errorf(guichet.ECONFLICT, "this idempotency key was used for case %s", res.Vars["ref"])
	}
	return s.Case(ctx, ref, owner)
}

// MoveCase takes the case ref to m.Status for owner, the administration
// that moves it ("" for any: the hotline), and writes the "moved" SMS to
// the citizen in the same transaction. It refuses a reference whose check
// digit fails (EINVALID, before any lookup), a case that does not exist or
// that owner does not own (ENOTFOUND for both, so that an administration
// cannot learn which references exist), a status unknown to the case's
// service (EINVALID) and a move its life cycle does not allow (ECONFLICT).
// The move is checked against the case as it stands once locked, so two
// moves at once cannot both pass. m.At defaults to now.
func (s *Service) MoveCase(ctx context.Context, ref string, m Move, owner string) (Case, error) {
	return s.moveCase(ctx, s.DB.Store(), ref, m, owner)
}

// moveCase is MoveCase on st.
func (s *Service) moveCase(ctx context.Context, st Store, ref string, m Move, owner string) (Case, error) {
	ref = strings.TrimSpace(ref)
	if !reference.Valid(ref) {
		return Case{}, guichet.Errorf(guichet.EINVALID, "invalid reference")
	}
	if m.Status == "" {
		return Case{}, guichet.Errorf(guichet.EINVALID, "no status")
	}
	now := s.now()
	if m.At.IsZero() {
		m.At = now
	}
	cat := s.catalogue()
	check := func(c Case) error {
		if !owns(cat, owner, c.Service) {
			return guichet.Errorf(guichet.ENOTFOUND, "case not found")
		}
		if !cat.HasStatus(c.Service, m.Status) {
			return guichet.Errorf(guichet.EINVALID, "unknown status")
		}
		if !cat.CanMove(c.Service, c.Status, m.Status) {
			return guichet.Errorf(guichet.ECONFLICT, "cannot move from %s to %s", c.Status, m.Status)
		}
		return nil
	}
	notify := func(c Case) []outbox.Message {
		lang := language(c.Lang)
		// A message named after the status is that move's SMS; else the
		// service's "moved".
		key := KindMoved
		if _, ok := cat.Template(c.Service, c.Status, lang); ok {
			key = c.Status
		}
		msgs := s.message(c.Service, key, lang, c.Phone, c.Ref, now, map[string]string{
			"ref":    c.Ref,
			"status": or(cat.StatusLabel(c.Service, c.Status, lang), c.Status),
			"note":   m.Note,
		})
		for i := range msgs {
			msgs[i].Kind = KindMoved
		}
		return msgs
	}
	c, err := st.Cases.MoveCase(ctx, ref, m, check, notify)
	if err != nil {
		return Case{}, fmt.Errorf("moving case: %w", err)
	}
	return c, nil
}

// NoteCase adds a note to the case ref's history without moving it and
// without an SMS: what an operator learnt on the phone, for the next one.
// who and channel say who wrote it. It refuses an empty note (EINVALID)
// and what MoveCase refuses before a move.
func (s *Service) NoteCase(ctx context.Context, ref, note, who, channel string) (Case, error) {
	note = strings.TrimSpace(note)
	if note == "" {
		return Case{}, guichet.Errorf(guichet.EINVALID, "the note is empty")
	}
	c, err := s.Case(ctx, ref, "")
	if err != nil {
		return Case{}, err
	}
	m := Move{Status: c.Status, Note: note, Who: who, Channel: channel, At: s.now()}
	c, err = s.DB.Store().Cases.MoveCase(ctx, c.Ref, m, func(now Case) error {
		if now.Status != m.Status {
			return guichet.Errorf(guichet.ECONFLICT, "the case moved meanwhile: reload it")
		}
		return nil
	}, nil)
	if err != nil {
		return Case{}, fmt.Errorf("noting case: %w", err)
	}
	return c, nil
}

// Case returns the case ref, with its applicant's data and its history, if
// owner owns it ("" for any). It refuses what MoveCase refuses before a
// move.
func (s *Service) Case(ctx context.Context, ref, owner string) (Case, error) {
	ref = strings.TrimSpace(ref)
	if !reference.Valid(ref) {
		return Case{}, guichet.Errorf(guichet.EINVALID, "invalid reference")
	}
	c, err := s.DB.Store().Cases.Case(ctx, ref)
	if err != nil {
		return Case{}, fmt.Errorf("finding case: %w", err)
	}
	if !owns(s.catalogue(), owner, c.Service) {
		return Case{}, guichet.Errorf(guichet.ENOTFOUND, "case not found")
	}
	return c, nil
}

// Cases returns a page of the cases that f selects among those owner owns
// ("" for any), by ref. The next page starts after the last ref.
func (s *Service) Cases(ctx context.Context, f CaseFilter, owner string) ([]Case, error) {
	if f.After != "" && !reference.Valid(f.After) {
		return nil, guichet.Errorf(guichet.EINVALID, "invalid cursor")
	}
	if f.Limit < 0 {
		return nil, guichet.Errorf(guichet.EINVALID, "negative limit")
	}
	if owner != "" {
		cat := s.catalogue()
		var services []string
		for _, s := range cat.ServiceIDs() {
			if cat.Owner(s) == owner && (len(f.Services) == 0 || slices.Contains(f.Services, s)) {
				services = append(services, s)
			}
		}
		if len(services) == 0 {
			return nil, nil // none of its services: an empty filter would select all
		}
		f.Services = services
	}
	cases, err := s.DB.Store().Cases.Cases(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("listing cases: %w", err)
	}
	return cases, nil
}

// RemindTomorrow writes a "reminder" SMS for each live booking whose slot is
// tomorrow (in Location), once per booking however often it runs, and
// returns how many bookings it reminded now.
func (s *Service) RemindTomorrow(ctx context.Context) (int, error) {
	loc := s.location()
	now := s.now()
	today := now.In(loc)
	from := time.Date(today.Year(), today.Month(), today.Day()+1, 0, 0, 0, 0, loc)
	offices, err := s.DB.Store().Visits.Offices(ctx, "")
	if err != nil {
		return 0, fmt.Errorf("listing offices: %w", err)
	}
	names := make(map[string]string, len(offices))
	for _, o := range offices {
		names[o.ID] = o.Name
	}
	count, err := s.DB.Store().Visits.Remind(ctx, from, from.AddDate(0, 0, 1), func(b Booking) []outbox.Message {
		lang := language(b.Lang)
		return s.message(b.Service, KindReminder, lang, b.Phone, b.Ref, now, map[string]string{
			"ref":    b.Ref,
			"slot":   slotLabel(b.Start.In(loc), lang),
			"office": clip(or(names[b.Office], b.Office), 30),
		})
	})
	if err != nil {
		return count, fmt.Errorf("reminding: %w", err)
	}
	return count, nil
}

// message renders a service's template kind in the citizen's language as
// the one SMS to write, or none if the service has no such template.
func (s *Service) message(service, kind, lang, phone, ref string, now time.Time, vars map[string]string) []outbox.Message {
	lang = language(lang)
	tpl, ok := s.catalogue().Template(service, kind, lang)
	if !ok || tpl == "" {
		return nil
	}
	return []outbox.Message{{
		Phone: phone, Lang: lang, Body: menus.Fill(tpl, vars), Kind: kind, CaseRef: ref,
		Created: now, Status: outbox.MessagePending, Transliterate: s.catalogue().Transliterated(service, kind),
	}}
}

func (s *Service) catalogue() Catalogue {
	if s.Catalogue != nil {
		return s.Catalogue
	}
	return codes{}
}

// owns reports whether owner may see and move a service's cases: "" may
// (the hotline), an administration may for the services it owns.
func owns(cat Catalogue, owner, service string) bool {
	return owner == "" || cat.Owner(service) == owner
}

// codes is the Catalogue of a Service without one: statuses and services are
// told by their codes, nobody owns a service, no case moves and no message
// is written.
type codes struct{}

func (codes) StatusLabel(_, status, _ string) string { return status }
func (codes) ServiceTitle(service, _ string) string  { return service }

func (codes) Owner(string) string                            { return "" }
func (codes) CanMove(string, string, string) bool            { return false }
func (codes) Template(string, string, string) (string, bool) { return "", false }
func (codes) HasStatus(string, string) bool                  { return false }
func (codes) Transliterated(string, string) bool             { return false }
func (codes) ServiceIDs() []string                           { return nil }
