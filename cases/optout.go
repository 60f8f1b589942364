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
