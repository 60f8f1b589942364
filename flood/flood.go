// Package flood counts what one caller does in a window of time, across a
// fleet of gateways: the counts live in the store the gateways share (the
// session store: Redis in a fleet, memory alone).
package flood

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// Store is where counts live: sessions.Redis and sessions.Memory are.
// Update applies fn to a key's value atomically across the fleet.
type Store interface {
	Update(ctx context.Context, key string, ttl time.Duration, fn func(old []byte) ([]byte, error)) ([]byte, error)
}

// Counter counts in fixed windows: a count starts again at each multiple
// of the window since the Unix epoch.
type Counter struct {
	Store  Store
	Prefix string           // starts every key ("flood:")
	Now    func() time.Time // nil: time.Now
}

// Add counts one more under key in the current window of length per and
// returns the count so far, this one included.
func (c *Counter) Add(ctx context.Context, key string, per time.Duration) (int, error) {
	if per <= 0 {
		return 0, fmt.Errorf("flood: a window must be positive, not %v", per)
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	prefix := c.Prefix
	if prefix == "" {
		prefix = "flood:"
	}
	window := now().UnixNano() / int64(per)
	n := 0
	_, err := c.Store.Update(ctx, fmt.Sprintf("%s%s:%d", prefix, key, window), per+time.Minute, func(old []byte) ([]byte, error) {
		n, _ = strconv.Atoi(string(old)) // nothing yet: 0
		n++
		return strconv.AppendInt(nil, int64(n), 10), nil
	})
	if err != nil {
		return 0, fmt.Errorf("flood: counting %s: %w", key, err)
	}
	return n, nil
}
