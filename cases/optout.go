package cases

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/guichet/guichet"
)

// CheckOptOutPhone checks the phone that SetOptOut is given.
func CheckOptOutPhone(phone string) error {
	if phone == "" {
		return guichet.Errorf(guichet.EINVALID, "opt-out without a phone")
	}
	return nil
}

// Bookings returns phone's live (not cancelled) bookings whose slot starts
// at or after from, soonest first.
func (m *Memory) Bookings(ctx context.Context, phone string, from time.Time) ([]Booking, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Booking
	for _, b := range m.bookings {
		if b.Phone == phone && b.Cancelled.IsZero() && !b.Start.Before(from) {
			out = append(out, *b)
		}
	}
	slices.SortFunc(out, func(a, b Booking) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.Ref, b.Ref))
	})
	return out, nil
}

// SetOptOut records that phone sent STOP (out) or START (!out): a phone
// that opted out gets no more notifications. Either is idempotent.
func (m *Memory) SetOptOut(ctx context.Context, phone string, out bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := CheckOptOutPhone(phone); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch _, ok := m.optouts[phone]; {
	case out && !ok:
		m.optouts[phone] = m.now()
	case !out:
		delete(m.optouts, phone)
	}
	return nil
}

// OptedOut reports whether phone sent STOP and not START since.
func (m *Memory) OptedOut(ctx context.Context, phone string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.optouts[phone]
	return ok, nil
}

// OptedOutAmong returns those of phones that sent STOP.
func (m *Memory) OptedOutAmong(ctx context.Context, phones []string) (map[string]bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]bool{}
	for _, p := range phones {
		if _, ok := m.optouts[p]; ok {
			out[p] = true
		}
	}
	return out, nil
}

// caseLanguages returns, for those of phones that opened a case, the
// language of their latest one.
func (m *Memory) caseLanguages(ctx context.Context, phones []string) (map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, p := range phones {
		want[p] = true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out, at := map[string]string{}, map[string]time.Time{}
	for _, c := range m.cases {
		if want[c.Phone] && c.Lang != "" && (at[c.Phone].IsZero() || c.Opened.After(at[c.Phone])) {
			out[c.Phone], at[c.Phone] = c.Lang, c.Opened
		}
	}
	return out, nil
}

// Citizens returns those of phones that sent STOP and the language of the
// latest case of those that opened one.
func (m *Memory) Citizens(ctx context.Context, phones []string) (map[string]bool, map[string]string, error) {
	out, err := m.OptedOutAmong(ctx, phones)
	if err != nil {
		return nil, nil, err
	}
	langs, err := m.caseLanguages(ctx, phones)
	return out, langs, err
}
