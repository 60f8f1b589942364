package staff

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/guichet/guichet"
)

// KeepRecords is how many SessionRecords Memory keeps: the latest
// recorded, older ones are forgotten as new ones arrive.
const KeepRecords = 100_000

// DefaultRecentPage is how many records RecentSessions returns for a
// limit of 0; audit pages are guichet.PageSize's.
const DefaultRecentPage = 20

// RecentLimit returns how many records RecentSessions returns at most for
// limit: DefaultRecentPage for 0 (or less).
func RecentLimit(limit int) int {
	if limit <= 0 {
		return DefaultRecentPage
	}
	return limit
}

// Memory keeps accounts, sign-in failures and the trail in memory, safe
// for concurrent use, for the embedded default (a demo) and for tests:
// its data dies with the process, and is this process's alone. It
// keeps every audit entry, for as long as the process lives, and the
// latest KeepRecords session records in a ring. Expired browser sessions
// are dropped when a session is created, and when one is found expired.
type Memory struct {
	mu       sync.Mutex
	users    map[string]User
	sessions map[string]Session // by TokenHash
	// throttle holds sign-in failures by key, forgotten ones dropped
	// when it grows past pruneAt.
	throttle map[string]throttled
	pruneAt  int
	audit    []AuditEntry // by ID: the entry with ID i is audit[i-1]
	// records is a ring of the latest KeepRecords records: until it is
	// full they are in the order recorded; then the oldest is at
	// records[next], where the next one goes.
	records []SessionRecord
	next    int
}

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{users: map[string]User{}, sessions: map[string]Session{}, throttle: map[string]throttled{}, pruneAt: 1024}
}

// throttled is a key's failures in a row: the latest at last, the next
// attempt not before until, all forgotten at forget; noticed is when they
// were last written to the audit log.
type throttled struct {
	failures                     int
	last, until, forget, noticed time.Time
}

// AddUser implements stafftest.Accounts.
func (m *Memory) AddUser(ctx context.Context, u User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users[u.Name]; ok {
		return guichet.Errorf(guichet.ECONFLICT, "user exists")
	}
	m.users[u.Name] = cloneUser(u)
	return nil
}

// User implements stafftest.Accounts.
func (m *Memory) User(ctx context.Context, name string) (User, error) {
	if err := ctx.Err(); err != nil {
		return User{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[name]
	if !ok {
		return User{}, guichet.Errorf(guichet.ENOTFOUND, "user not found")
	}
	return cloneUser(u), nil
}

// Users implements stafftest.Accounts.
func (m *Memory) Users(ctx context.Context) ([]User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	users := make([]User, 0, len(m.users))
	for _, u := range m.users {
		users = append(users, cloneUser(u))
	}
	slices.SortFunc(users, func(a, b User) int { return cmp.Compare(a.Name, b.Name) })
	return users, nil
}

// UpdateUser implements stafftest.Accounts: the creation time stays as it
// is.
func (m *Memory) UpdateUser(ctx context.Context, u User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.users[u.Name]
	if !ok {
		return guichet.Errorf(guichet.ENOTFOUND, "user not found")
	}
	old.FullName, old.Role, old.Lang, old.Hash, old.MustChange, old.PasswordExpires = u.FullName, u.Role, u.Lang, slices.Clone(u.Hash), u.MustChange, u.PasswordExpires
	m.users[u.Name] = old
	return nil
}

// Attempt implements stafftest.Accounts.
func (m *Memory) Attempt(ctx context.Context, now time.Time, strikes []Strike) (Verdict, error) {
	if err := ctx.Err(); err != nil {
		return Verdict{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v := Verdict{Failures: map[string]int{}}
	for _, s := range strikes {
		k := m.key(s.Key, now)
		v.Failures[s.Key] = k.failures
		if now.Before(k.until) {
			v.Waiting = append(v.Waiting, s.Key)
			if k.until.After(v.Until) {
				v.Until = k.until
			}
		}
	}
	if len(v.Waiting) > 0 {
		return v, nil
	}
	v.OK = true
	for _, s := range strikes {
		k := m.key(s.Key, now)
		k.failures++
		k.last, k.until, k.forget = now, WaitUntil(now, s.Backoff.Delay(k.failures)), now.Add(s.Backoff.Forget)
		m.throttle[s.Key] = k
		v.Failures[s.Key] = k.failures
	}
	if len(m.throttle) > m.pruneAt {
		for key, k := range m.throttle {
			if !now.Before(k.forget) {
				delete(m.throttle, key)
			}
		}
		m.pruneAt = max(1024, 2*len(m.throttle))
	}
	return v, nil
}

// key returns the failures of key at now: none once forgotten.
func (m *Memory) key(key string, now time.Time) throttled {
	k, ok := m.throttle[key]
	if ok && !now.Before(k.forget) {
		delete(m.throttle, key)
		return throttled{}
	}
	return k
}

// Succeeded implements stafftest.Accounts.
func (m *Memory) Succeeded(ctx context.Context, now time.Time, strikes []Strike) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range strikes {
		k := m.key(s.Key, now)
		if !s.Shared || k.failures <= 1 {
			delete(m.throttle, s.Key)
			continue
		}
		k.failures--
		k.until = WaitUntil(k.last, s.Backoff.Delay(k.failures))
		m.throttle[s.Key] = k
	}
	return nil
}

// Noticed implements stafftest.Accounts.
func (m *Memory) Noticed(ctx context.Context, key string, now time.Time, every time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.throttle[key]
	if !ok || !now.Before(k.forget) || !k.noticed.IsZero() && now.Before(k.noticed.Add(every)) {
		return false, nil
	}
	k.noticed = now
	m.throttle[key] = k
	return true, nil
}

// CreateSession implements stafftest.Accounts: ENOTFOUND if s.User has no account,
// ECONFLICT if a session has s.TokenHash. It drops the sessions expired
// at s.Created.
func (m *Memory) CreateSession(ctx context.Context, s Session) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users[s.User]; !ok {
		return guichet.Errorf(guichet.ENOTFOUND, "user not found")
	}
	if _, ok := m.sessions[s.TokenHash]; ok {
		return guichet.Errorf(guichet.ECONFLICT, "session exists")
	}
	if s.LastSeen.IsZero() {
		s.LastSeen = s.Created
	}
	for h, old := range m.sessions {
		if !s.Created.Before(old.Expires) {
			delete(m.sessions, h)
		}
	}
	m.sessions[s.TokenHash] = s
	return nil
}

// Session implements stafftest.Accounts: a session ends at its Expires,
// or idle after its LastSeen, which it moves to now.
func (m *Memory) Session(ctx context.Context, tokenHash string, now time.Time, idle time.Duration) (Session, error) {
	if err := ctx.Err(); err != nil {
		return Session{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[tokenHash]
	if ok && (!now.Before(s.Expires) || idle > 0 && !now.Before(s.LastSeen.Add(idle))) {
		delete(m.sessions, tokenHash)
		ok = false
	}
	if !ok {
		return Session{}, guichet.Errorf(guichet.ENOTFOUND, "session not found")
	}
	if now.After(s.LastSeen) {
		s.LastSeen = now
		m.sessions[tokenHash] = s
	}
	return s, nil
}

// DeleteSessions implements stafftest.Accounts.
func (m *Memory) DeleteSessions(ctx context.Context, user, keep string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for h, s := range m.sessions {
		if s.User == user && h != keep {
			delete(m.sessions, h)
		}
	}
	return nil
}

// DeleteSession implements stafftest.Accounts.
func (m *Memory) DeleteSession(ctx context.Context, tokenHash string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, tokenHash)
	return nil
}

// Audit implements stafftest.Trail. Memory keeps every entry for as long as the
// process lives: it is for demos, not for an audit that must last.
func (m *Memory) Audit(ctx context.Context, e AuditEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e.ID = int64(len(m.audit)) + 1
	e.Shown = slices.Clone(e.Shown)
	m.audit = append(m.audit, e)
	return nil
}

// AuditLog implements stafftest.Trail.
func (m *Memory) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	limit := guichet.PageSize(f.Limit)
	last := len(m.audit) // the index after the newest entry selectable
	if f.Before > 0 && f.Before <= int64(last) {
		last = int(f.Before) - 1
	}
	var entries []AuditEntry
	for i := last - 1; i >= 0 && len(entries) < limit; i-- {
		e := m.audit[i]
		if (f.User == "" || e.User == f.User) && (f.Subject == "" || e.About(f.Subject)) {
			entries = append(entries, e)
		}
	}
	return entries, nil
}

// RecordSessions implements stafftest.Trail. Once KeepRecords are kept, each new
// record replaces the oldest.
func (m *Memory) RecordSessions(ctx context.Context, rs []SessionRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rs {
		if len(m.records) < KeepRecords {
			m.records = append(m.records, r)
			continue
		}
		m.records[m.next] = r
		m.next = (m.next + 1) % KeepRecords
	}
	return nil
}

// newest calls yield with the kept records, the latest recorded first,
// until it returns false.
func (m *Memory) newest(yield func(SessionRecord) bool) {
	n := len(m.records)
	for i := range n {
		if !yield(m.records[(m.next-1-i+2*n)%n]) {
			return
		}
	}
}

// RecentSessions implements stafftest.Trail: the latest to end first, and of those
// that ended at once the latest recorded.
func (m *Memory) RecentSessions(ctx context.Context, phone string, limit int) ([]SessionRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	var rs []SessionRecord
	m.newest(func(r SessionRecord) bool {
		if r.Phone == phone {
			rs = append(rs, r)
		}
		return true
	})
	m.mu.Unlock()
	slices.SortStableFunc(rs, func(a, b SessionRecord) int { return b.At.Compare(a.At) })
	return rs[:min(len(rs), RecentLimit(limit))], nil
}

// SessionCounts implements stafftest.Trail: hour counts by hour then service, end
// counts by service, node and result, each compared byte by byte.
func (m *Memory) SessionCounts(ctx context.Context, from, to time.Time) ([]HourCount, []EndCount, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	type hourKey struct {
		hour    int64
		service string
	}
	hours, ends := map[hourKey]int{}, map[EndCount]int{}
	m.mu.Lock()
	m.newest(func(r SessionRecord) bool {
		if !r.At.Before(from) && r.At.Before(to) {
			hours[hourKey{r.At.Truncate(time.Hour).Unix(), r.Service}]++
			ends[EndCount{Service: r.Service, Node: r.Node, Result: r.Result}]++
		}
		return true
	})
	m.mu.Unlock()
	var hcs []HourCount
	for k, n := range hours {
		hcs = append(hcs, HourCount{Hour: time.Unix(k.hour, 0).UTC(), Service: k.service, N: n})
	}
	slices.SortFunc(hcs, func(a, b HourCount) int {
		return cmp.Or(a.Hour.Compare(b.Hour), cmp.Compare(a.Service, b.Service))
	})
	var ecs []EndCount
	for k, n := range ends {
		k.N = n
		ecs = append(ecs, k)
	}
	slices.SortFunc(ecs, func(a, b EndCount) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.Node, b.Node), cmp.Compare(a.Result, b.Result))
	})
	return hcs, ecs, nil
}

func cloneUser(u User) User {
	u.Hash = slices.Clone(u.Hash)
	return u
}
