package api

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/guichet/guichet/apikey"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/sessions"
)

// Counter counts under keys with a time to live, for the whole fleet
// (sessions.Store: Redis in a fleet), in one step: requests counted at
// once never retry (Redis: INCRBY).
type Counter interface {
	// Add adds n to the count under key (absent: 0) and returns it; a
	// count lives ttl from its first add.
	Add(ctx context.Context, key string, n int64, ttl time.Duration) (int64, error)
}

func (s *Server) counts() Counter {
	if s.Counts != nil {
		return s.Counts
	}
	s.localOnce.Do(func() { s.local = sessions.NewMemory(nil) })
	return s.local
}

// add adds n to the counter under key and returns its value: a window
// count that lives ttl.
func (s *Server) add(ctx context.Context, key string, ttl time.Duration, n int) (int, error) {
	v, err := s.counts().Add(ctx, key, int64(n), ttl)
	if err != nil {
		return 0, fmt.Errorf("api: counting a key's use: %w", err)
	}
	return int(v), nil
}

// limitRate counts a request of k in the current second: false once the
// key's requests a second are spent.
func (s *Server) limitRate(ctx context.Context, k apikey.Key, now time.Time) (bool, error) {
	_, perSecond := k.Limits()
	n, err := s.add(ctx, "api:rps:"+k.ID+":"+strconv.FormatInt(now.Unix(), 10), 2*time.Second, 1)
	return n <= int(math.Ceil(perSecond)), err
}

// dayKey names k's count of messages of now's day, in Cameroon's time,
// and says how long until the day ends.
func dayKey(k apikey.Key, now time.Time) (string, time.Duration) {
	local := now.In(cases.Cameroon)
	y, m, d := local.Date()
	midnight := time.Date(y, m, d+1, 0, 0, 0, 0, cases.Cameroon)
	return fmt.Sprintf("api:day:%s:%04d%02d%02d", k.ID, y, m, d), midnight.Sub(now)
}
