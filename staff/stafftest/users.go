package stafftest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/staff"
)

// testAddUser adds an account with every field set and reads it back; a
// second account with its name is refused.
func testAddUser(t *testing.T, s Store) {
	ctx := t.Context()
	want := user("awa")
	u := user("awa")
	noErr(t, s.AddUser(ctx, u))
	u.Hash[0] = 'X' // what a caller does to the account it gave does not reach the store
	got := must[staff.User](t)(s.User(ctx, "awa"))
	if !sameUser(got, want) {
		t.Fatalf("User(awa) = %+v, want %+v", got, want)
	}
	got.Hash[0] = 'X' // nor what it does to the account it got
	if again := must[staff.User](t)(s.User(ctx, "awa")); !sameUser(again, want) {
		t.Errorf("the store shares its hash with callers: %q", again.Hash)
	}

	other := user("awa")
	other.FullName, other.Role = "Someone else", staff.Admin
	wantCode(t, s.AddUser(ctx, other), guichet.ECONFLICT)
	if again := must[staff.User](t)(s.User(ctx, "awa")); !sameUser(again, want) {
		t.Errorf("a refused AddUser changed the account: %+v", again)
	}

	// An account with only a name and a role, as the zero values store.
	bare := staff.User{Name: "bare", Role: staff.Admin}
	noErr(t, s.AddUser(ctx, bare))
	if got := must[staff.User](t)(s.User(ctx, "bare")); !sameUser(got, bare) || !got.LockedUntil.IsZero() {
		t.Errorf("User(bare) = %+v, want %+v", got, bare)
	}

	for _, name := range []string{"nobody", "Awa", ""} {
		_, err := s.User(ctx, name)
		wantCode(t, err, guichet.ENOTFOUND)
	}
}

// testUsers lists the accounts by name.
func testUsers(t *testing.T, s Store) {
	ctx := t.Context()
	if us := must[[]staff.User](t)(s.Users(ctx)); len(us) != 0 {
		t.Fatalf("Users of an empty store = %+v", us)
	}
	for _, name := range []string{"moussa", "awa", "jean-paul", "awa.b", "zoe_1"} {
		noErr(t, s.AddUser(ctx, user(name)))
	}
	var names []string
	for _, u := range must[[]staff.User](t)(s.Users(ctx)) {
		if !sameUser(u, user(u.Name)) {
			t.Errorf("listed %+v, want %+v", u, user(u.Name))
		}
		names = append(names, u.Name)
	}
	if want := []string{"awa", "awa.b", "jean-paul", "moussa", "zoe_1"}; !slices.Equal(names, want) {
		t.Errorf("Users = %v, want %v", names, want)
	}
}

// testUpdateUser replaces the full name, role, language, hash and
// MustChange of an account; its failures, lock and creation stay.
func testUpdateUser(t *testing.T, s Store) {
	ctx := t.Context()
	noErr(t, s.AddUser(ctx, user("awa")))
	noErr(t, s.AddUser(ctx, user("moussa")))

	u := staff.User{
		Name: "awa", FullName: "Awa Ndiaye", Role: staff.Supervisor, Lang: "en",
		Hash: []byte("$2a$10$new"), MustChange: false,
		// Not UpdateUser's to change:
		Failures: 9, LockedUntil: t0.Add(time.Hour), Created: t0,
	}
	noErr(t, s.UpdateUser(ctx, u))
	want := user("awa")
	want.FullName, want.Role, want.Lang, want.Hash, want.MustChange = u.FullName, u.Role, u.Lang, u.Hash, u.MustChange
	if got := must[staff.User](t)(s.User(ctx, "awa")); !sameUser(got, want) {
		t.Errorf("after UpdateUser: %+v, want %+v", got, want)
	}
	// And back: each field goes both ways.
	noErr(t, s.UpdateUser(ctx, user("awa")))
	if got := must[staff.User](t)(s.User(ctx, "awa")); !sameUser(got, user("awa")) {
		t.Errorf("after UpdateUser back: %+v, want %+v", got, user("awa"))
	}
	if got := must[staff.User](t)(s.User(ctx, "moussa")); !sameUser(got, user("moussa")) {
		t.Errorf("UpdateUser(awa) changed moussa: %+v", got)
	}

	wantCode(t, s.UpdateUser(ctx, user("nobody")), guichet.ENOTFOUND)
	if _, err := s.User(ctx, "nobody"); guichet.ErrorCode(err) != guichet.ENOTFOUND {
		t.Errorf("UpdateUser of a missing account created it: %v", err)
	}
}

// testSignInAttempt counts attempts and locks the account at the max-th,
// until now+lock; while locked it counts nothing; once the lock has ended
// the count starts again.
func testSignInAttempt(t *testing.T, s Store) {
	ctx := t.Context()
	u := user("awa")
	u.Failures, u.LockedUntil = 0, time.Time{}
	noErr(t, s.AddUser(ctx, u))
	const max, lock = 3, 15 * time.Minute
	steps := []struct {
		now          time.Time
		wantOK       bool
		wantFailures int
		wantLocked   time.Time
	}{
		{t0, true, 1, time.Time{}},
		{t0.Add(time.Minute), true, 2, time.Time{}},
		{t0.Add(2 * time.Minute), true, 3, t0.Add(2*time.Minute + lock)},
		// Locked: refused, nothing counted, the lock stays as it was.
		{t0.Add(5 * time.Minute), false, 3, t0.Add(2*time.Minute + lock)},
		{t0.Add(2*time.Minute + lock - time.Nanosecond), false, 3, t0.Add(2*time.Minute + lock)},
		// The lock has ended: counting starts again at this attempt.
		{t0.Add(2*time.Minute + lock), true, 1, time.Time{}},
	}
	for i, st := range steps {
		got, ok, err := s.SignInAttempt(ctx, "awa", st.now.In(wat), max, lock)
		noErr(t, err)
		want := u
		want.Failures, want.LockedUntil = st.wantFailures, st.wantLocked
		if ok != st.wantOK || !sameUser(got, want) {
			t.Errorf("attempt %d: SignInAttempt = %+v, %v; want %+v, %v", i+1, got, ok, want, st.wantOK)
		}
		if stored := must[staff.User](t)(s.User(ctx, "awa")); !sameUser(stored, want) {
			t.Errorf("attempt %d: User = %+v, want %+v", i+1, stored, want)
		}
	}

	// max 0 counts without locking.
	noErr(t, s.AddUser(ctx, staff.User{Name: "moussa", Role: staff.Operator}))
	for range 3 {
		got, ok, err := s.SignInAttempt(ctx, "moussa", t0, 0, lock)
		if err != nil || !ok || !got.LockedUntil.IsZero() {
			t.Errorf("max 0: %+v, %v, %v", got, ok, err)
		}
	}
	if got := must[staff.User](t)(s.User(ctx, "moussa")); got.Failures != 3 {
		t.Errorf("attempts with max 0 = %d, want 3", got.Failures)
	}

	_, _, err := s.SignInAttempt(ctx, "nobody", t0, max, lock)
	wantCode(t, err, guichet.ENOTFOUND)
}

// testSignInAttemptConcurrent makes 20 attempts at once with max 5:
// exactly 5 get through, each with its own count, and the account ends
// locked with 5.
func testSignInAttemptConcurrent(t *testing.T, s Store) {
	ctx := t.Context()
	noErr(t, s.AddUser(ctx, staff.User{Name: "awa", Role: staff.Operator}))
	const n, max, lock = 20, 5, time.Hour
	var (
		wg   sync.WaitGroup
		seen = make(chan int, n)
	)
	for range n {
		wg.Go(func() {
			u, ok, err := s.SignInAttempt(ctx, "awa", t0, max, lock)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				seen <- u.Failures
			}
		})
	}
	wg.Wait()
	close(seen)
	var counts []int
	for f := range seen {
		counts = append(counts, f)
	}
	slices.Sort(counts)
	if want := []int{1, 2, 3, 4, 5}; !slices.Equal(counts, want) {
		t.Errorf("attempts let through = %v, want %v: parallel guesses must not pass the lock", counts, want)
	}
	got := must[staff.User](t)(s.User(ctx, "awa"))
	if got.Failures != max || !got.LockedUntil.Equal(t0.Add(lock)) {
		t.Errorf("after %d attempts at once: %+v, want %d failures, locked until %v", n, got, max, t0.Add(lock))
	}
}

// testSignedIn clears the failures and the lock, and nothing else.
func testSignedIn(t *testing.T, s Store) {
	ctx := t.Context()
	noErr(t, s.AddUser(ctx, user("awa")))
	for range 3 {
		_, _, err := s.SignInAttempt(ctx, "awa", t0, 3, time.Hour)
		noErr(t, err)
	}
	noErr(t, s.SignedIn(ctx, "awa"))
	want := user("awa")
	want.Failures, want.LockedUntil = 0, time.Time{}
	got := must[staff.User](t)(s.User(ctx, "awa"))
	if !sameUser(got, want) || !got.LockedUntil.IsZero() {
		t.Errorf("after SignedIn: %+v, want %+v", got, want)
	}
	// Counting starts again from one.
	if got, ok, err := s.SignInAttempt(ctx, "awa", t0, 3, time.Hour); err != nil || !ok || got.Failures != 1 || !got.LockedUntil.IsZero() {
		t.Errorf("attempt after SignedIn: %+v, %v, %v; want 1 attempt, unlocked", got, ok, err)
	}
	wantCode(t, s.SignedIn(ctx, "nobody"), guichet.ENOTFOUND)
}

// testSessions creates, reads and deletes browser sessions.
func testSessions(t *testing.T, s Store) {
	ctx := t.Context()
	noErr(t, s.AddUser(ctx, user("awa")))
	a := staff.Session{TokenHash: "aa11", User: "awa", CSRF: "csrf-a", Created: t0, Expires: t0.Add(8 * time.Hour)}
	b := staff.Session{TokenHash: "bb22", User: "awa", CSRF: "csrf-b", Created: t0, Expires: t0.Add(8 * time.Hour)}
	noErr(t, s.CreateSession(ctx, a))
	noErr(t, s.CreateSession(ctx, b))
	if got := must[staff.Session](t)(s.Session(ctx, "aa11", t0.Add(time.Minute))); !sameSession(got, a) {
		t.Errorf("Session(aa11) = %+v, want %+v", got, a)
	}

	// A token hash is one session's.
	taken := b
	taken.CSRF = "other"
	wantCode(t, s.CreateSession(ctx, taken), guichet.ECONFLICT)
	if got := must[staff.Session](t)(s.Session(ctx, "bb22", t0)); !sameSession(got, b) {
		t.Errorf("a refused CreateSession changed the session: %+v", got)
	}
	// A session is an account's.
	wantCode(t, s.CreateSession(ctx, staff.Session{TokenHash: "cc33", User: "nobody", Created: t0, Expires: t0.Add(time.Hour)}), guichet.ENOTFOUND)
	_, err := s.Session(ctx, "cc33", t0)
	wantCode(t, err, guichet.ENOTFOUND)

	noErr(t, s.DeleteSession(ctx, "aa11"))
	_, err = s.Session(ctx, "aa11", t0)
	wantCode(t, err, guichet.ENOTFOUND)
	noErr(t, s.DeleteSession(ctx, "aa11")) // again: no error
	noErr(t, s.DeleteSession(ctx, "never"))
	must[staff.Session](t)(s.Session(ctx, "bb22", t0)) // the other stays

	_, err = s.Session(ctx, "unknown", t0)
	wantCode(t, err, guichet.ENOTFOUND)
}

// testSessionExpires: a session is found until its Expires, not at it,
// and an expired one does not hinder others.
func testSessionExpires(t *testing.T, s Store) {
	ctx := t.Context()
	noErr(t, s.AddUser(ctx, user("awa")))
	expires := t0.Add(time.Hour)
	a := staff.Session{TokenHash: "aa11", User: "awa", CSRF: "c", Created: t0, Expires: expires}
	noErr(t, s.CreateSession(ctx, a))
	tests := []struct {
		now   time.Time
		found bool
	}{
		{t0, true},
		{expires.Add(-time.Millisecond), true},
		{expires.Add(-time.Second).In(wat), true},
		{expires, false},
		{expires.In(wat), false},
		{expires.Add(time.Millisecond), false},
		{expires.Add(24 * time.Hour), false},
	}
	for _, tt := range tests {
		got, err := s.Session(ctx, "aa11", tt.now)
		switch {
		case tt.found && (err != nil || !sameSession(got, a)):
			t.Errorf("Session at %v = %+v, %v; want %+v", tt.now, got, err, a)
		case !tt.found && guichet.ErrorCode(err) != guichet.ENOTFOUND:
			t.Errorf("Session at %v = %+v, %v; want not found", tt.now, got, err)
		}
	}
	// A session created after another expired is found, at its own time.
	b := staff.Session{TokenHash: "bb22", User: "awa", CSRF: "c", Created: expires.Add(time.Minute), Expires: expires.Add(2 * time.Hour)}
	noErr(t, s.CreateSession(ctx, b))
	if got := must[staff.Session](t)(s.Session(ctx, "bb22", b.Created)); !sameSession(got, b) {
		t.Errorf("Session(bb22) = %+v, want %+v", got, b)
	}
	_, err := s.Session(ctx, "aa11", b.Created)
	wantCode(t, err, guichet.ENOTFOUND)
}
