package api

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/guichet/guichet"
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

// KeysByID finds an API key by its id (apikey.Memory, postgres.Keys).
type KeysByID interface {
	APIKeyByID(ctx context.Context, id string) (apikey.Key, error)
}

// Days charges messages to API keys' days outside a request: the
// campaigns the keys made (campaigns.Allowance, for the Runner). It keeps
// its counts where the Server keeps its own (give both the same Counts),
// so that a key's sends and its campaigns share its day, for the fleet.
type Days struct {
	Keys   KeysByID
	Counts DayCounts
	Now    func() time.Time // nil: time.Now
}

// DayCounts is where Days reads and takes a key's day, under the keys
// (and in the decimal form) Counter's Add writes: the session store.
type DayCounts interface {
	Update(ctx context.Context, key string, ttl time.Duration, fn func(old []byte) ([]byte, error)) ([]byte, error)
}

func (d *Days) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Take takes up to n messages of the day of the key named keyID, as many
// as it has left; none, with the reason, when the day is spent or the key
// may no longer send.
func (d *Days) Take(ctx context.Context, keyID string, n int) (int, string, error) {
	k, perDay, reason, err := d.key(ctx, keyID)
	if reason != "" || err != nil {
		return 0, reason, err
	}
	now := d.now()
	day, left := dayKey(k, now)
	var took int
	if _, err := d.Counts.Update(ctx, day, left+time.Hour, func(old []byte) ([]byte, error) {
		used, _ := strconv.Atoi(string(old))
		took = max(0, min(n, perDay-used))
		return []byte(strconv.Itoa(used + took)), nil
	}); err != nil {
		return 0, "", fmt.Errorf("api: counting a key's day: %w", err)
	}
	if took == 0 {
		return 0, spent(k.ID, perDay), nil
	}
	return took, "", nil
}

// Give gives back n messages taken from the day of the key named keyID
// and not sent.
func (d *Days) Give(ctx context.Context, keyID string, n int) error {
	day, left := dayKey(apikey.Key{ID: keyID}, d.now())
	if _, err := d.Counts.Update(ctx, day, left+time.Hour, func(old []byte) ([]byte, error) {
		used, _ := strconv.Atoi(string(old))
		return []byte(strconv.Itoa(max(0, used-n))), nil
	}); err != nil {
		return fmt.Errorf("api: giving back a key's day: %w", err)
	}
	return nil
}

// Spent says why the key named keyID can send nothing more now, "" if it
// can; retry is how long until its day starts again when it is spent (0
// when the key itself may no longer send).
func (d *Days) Spent(ctx context.Context, keyID string) (reason string, retry time.Duration, err error) {
	k, perDay, reason, err := d.key(ctx, keyID)
	if reason != "" || err != nil {
		return reason, 0, err
	}
	day, left := dayKey(k, d.now())
	used := 0
	if _, err := d.Counts.Update(ctx, day, left+time.Hour, func(old []byte) ([]byte, error) {
		used, _ = strconv.Atoi(string(old))
		return old, nil
	}); err != nil {
		return "", 0, fmt.Errorf("api: counting a key's day: %w", err)
	}
	if used >= perDay {
		return spent(k.ID, perDay), left, nil
	}
	return "", 0, nil
}

// key reads the key named id and its messages a day, or says why it may
// not send.
func (d *Days) key(ctx context.Context, id string) (apikey.Key, int, string, error) {
	k, err := d.Keys.APIKeyByID(ctx, id)
	if guichet.ErrorCode(err) == guichet.ENOTFOUND {
		return k, 0, "the API key that made it, " + id + ", is gone", nil
	}
	if err != nil {
		return k, 0, "", err
	}
	if err := k.Usable(d.now()); err != nil {
		return k, 0, "the API key that made it may no longer send: " + guichet.ErrorMessage(err), nil
	}
	perDay, _ := k.Limits()
	return k, perDay, "", nil
}

func spent(keyID string, perDay int) string {
	return fmt.Sprintf("the %d messages a day of API key %s, the one that made it, are spent for today (its sends and its campaigns count together); resume it after midnight (Africa/Douala)", perDay, keyID)
}
