package cases

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/guichet/guichet"
)

// CallbacksPerPhone is the most requests that CallbacksOf returns.
const CallbacksPerPhone = 20

// CheckCallbackStep checks what TakeCallback and CloseCallback are given:
// the operator who acts and when.
func CheckCallbackStep(who string, now time.Time) error {
	switch {
	case who == "":
		return guichet.Errorf(guichet.EINVALID, "callback step without an operator")
	case now.IsZero():
		return guichet.Errorf(guichet.EINVALID, "callback step without a time")
	}
	return nil
}

// Callbacks returns, when open is true, the open callback requests, oldest
// first (by Requested, then in the order they came); otherwise the latest
// closed ones, newest first (by Closed). At most guichet.PageSize(limit).
func (m *Memory) Callbacks(ctx context.Context, open bool, limit int) ([]Callback, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var picked []int // indexes in m.requests
	if open {
		for _, i := range m.ticketed {
			picked = append(picked, i)
		}
		slices.SortFunc(picked, func(a, b int) int {
			return cmp.Or(m.requests[a].Requested.Compare(m.requests[b].Requested), cmp.Compare(a, b))
		})
	} else {
		for i, cb := range m.requests {
			if !cb.Closed.IsZero() {
				picked = append(picked, i)
			}
		}
		slices.SortFunc(picked, func(a, b int) int {
			return cmp.Or(m.requests[b].Closed.Compare(m.requests[a].Closed), cmp.Compare(b, a))
		})
	}
	return m.callbacksAt(picked[:min(len(picked), guichet.PageSize(limit))]), nil
}

// CallbacksOf returns phone's callback requests, open and closed, newest
// first (by Requested), at most CallbacksPerPhone.
func (m *Memory) CallbacksOf(ctx context.Context, phone string) ([]Callback, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var picked []int
	for i, cb := range m.requests {
		if cb.Phone == phone {
			picked = append(picked, i)
		}
	}
	slices.SortFunc(picked, func(a, b int) int {
		return cmp.Or(m.requests[b].Requested.Compare(m.requests[a].Requested), cmp.Compare(b, a))
	})
	return m.callbacksAt(picked[:min(len(picked), CallbacksPerPhone)]), nil
}

// TakeCallback gives the open request ticket to the operator who, at now:
// ENOTFOUND if no open request has that ticket, ECONFLICT (naming the
// operator) if another operator took it. Taking it again is no error and
// keeps the time it was first taken.
func (m *Memory) TakeCallback(ctx context.Context, ticket, who string, now time.Time) (Callback, error) {
	var out Callback
	err := m.openRequest(ctx, ticket, who, now, func(cb *Callback) error {
		switch cb.TakenBy {
		case "":
			cb.TakenBy, cb.Taken = who, now
		case who:
		default:
			return guichet.Errorf(guichet.ECONFLICT, "callback request %s is taken by %s", ticket, cb.TakenBy)
		}
		out = *cb
		return nil
	})
	return out, err
}

// CloseCallback closes the open request ticket, done by the operator who
// at now, whoever took it: ENOTFOUND if no open request has that ticket.
// Its phone may then request a callback again, and its ticket may be
// given again.
func (m *Memory) CloseCallback(ctx context.Context, ticket, who string, now time.Time) (Callback, error) {
	var out Callback
	err := m.openRequest(ctx, ticket, who, now, func(cb *Callback) error {
		cb.ClosedBy, cb.Closed = who, now
		delete(m.ticketed, ticket)
		delete(m.callbacks, cb.Phone)
		out = *cb
		return nil
	})
	return out, err
}

// openRequest runs step on the open request ticket under m.mu, after the
// checks TakeCallback and CloseCallback share: ENOTFOUND if no open
// request has that ticket.
func (m *Memory) openRequest(ctx context.Context, ticket, who string, now time.Time, step func(*Callback) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := CheckCallbackStep(who, now); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	i, ok := m.ticketed[ticket]
	if !ok {
		return guichet.Errorf(guichet.ENOTFOUND, "no open callback request %s", ticket)
	}
	return step(&m.requests[i])
}

// callbacksAt copies the requests at indexes; m.mu is held.
func (m *Memory) callbacksAt(indexes []int) []Callback {
	out := make([]Callback, 0, len(indexes))
	for _, i := range indexes {
		out = append(out, m.requests[i])
	}
	return out
}
