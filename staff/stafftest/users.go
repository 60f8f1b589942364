package stafftest

import (
	"slices"
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
	if got := must[staff.User](t)(s.User(ctx, "bare")); !sameUser(got, bare) || !got.PasswordExpires.IsZero() {
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

// testUpdateUser replaces the full name, role, language, hash, MustChange
// and PasswordExpires of an account; its creation stays.
func testUpdateUser(t *testing.T, s Store) {
	ctx := t.Context()
	noErr(t, s.AddUser(ctx, user("awa")))
	noErr(t, s.AddUser(ctx, user("moussa")))

	u := staff.User{
		Name: "awa", FullName: "Awa Ndiaye", Role: staff.Supervisor, Lang: "en",
		Hash: []byte("$2a$10$new"), MustChange: false,
		// Not UpdateUser's to change:
		Created: t0,
	}
	noErr(t, s.UpdateUser(ctx, u))
	want := user("awa")
	want.FullName, want.Role, want.Lang, want.Hash, want.MustChange, want.PasswordExpires = u.FullName, u.Role, u.Lang, u.Hash, u.MustChange, u.PasswordExpires
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

// testSessions creates, reads and deletes browser sessions.
func testSessions(t *testing.T, s Store) {
	ctx := t.Context()
	noErr(t, s.AddUser(ctx, user("awa")))
	a := staff.Session{TokenHash: "aa11", User: "awa", CSRF: "csrf-a", Created: t0, Expires: t0.Add(8 * time.Hour)}
	b := staff.Session{TokenHash: "bb22", User: "awa", CSRF: "csrf-b", Created: t0, Expires: t0.Add(8 * time.Hour), LastSeen: t0}
	noErr(t, s.CreateSession(ctx, a))
	noErr(t, s.CreateSession(ctx, b))
	if got := must[staff.Session](t)(s.Session(ctx, "aa11", t0.Add(time.Minute), 0)); !sameSession(got, seenAt(a, t0.Add(time.Minute))) {
		t.Errorf("Session(aa11) = %+v, want %+v", got, seenAt(a, t0.Add(time.Minute)))
	}

	// A token hash is one session's.
	taken := b
	taken.CSRF = "other"
	wantCode(t, s.CreateSession(ctx, taken), guichet.ECONFLICT)
	if got := must[staff.Session](t)(s.Session(ctx, "bb22", t0, 0)); !sameSession(got, b) {
		t.Errorf("a refused CreateSession changed the session: %+v", got)
	}
	// A session is an account's.
	wantCode(t, s.CreateSession(ctx, staff.Session{TokenHash: "cc33", User: "nobody", Created: t0, Expires: t0.Add(time.Hour)}), guichet.ENOTFOUND)
	_, err := s.Session(ctx, "cc33", t0, 0)
	wantCode(t, err, guichet.ENOTFOUND)

	noErr(t, s.DeleteSession(ctx, "aa11"))
	_, err = s.Session(ctx, "aa11", t0, 0)
	wantCode(t, err, guichet.ENOTFOUND)
	noErr(t, s.DeleteSession(ctx, "aa11")) // again: no error
	noErr(t, s.DeleteSession(ctx, "never"))
	must[staff.Session](t)(s.Session(ctx, "bb22", t0, 0)) // the other stays

	_, err = s.Session(ctx, "unknown", t0, 0)
	wantCode(t, err, guichet.ENOTFOUND)
}

// seenAt is s as Session returns it at now: last seen then.
func seenAt(s staff.Session, now time.Time) staff.Session {
	s.LastSeen = now
	return s
}

// testSessionExpires: a session is found until its Expires, not at it,
// whatever its use, and an expired one does not hinder others.
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
		{expires.Add(-time.Second).In(wat), true},
		{expires.Add(-time.Millisecond), true},
		{expires, false},
		{expires.In(wat), false},
		{expires.Add(time.Millisecond), false},
		{expires.Add(24 * time.Hour), false},
	}
	for _, tt := range tests {
		got, err := s.Session(ctx, "aa11", tt.now, time.Hour)
		switch {
		case tt.found && (err != nil || !sameSession(got, seenAt(a, tt.now))):
			t.Errorf("Session at %v = %+v, %v; want %+v", tt.now, got, err, seenAt(a, tt.now))
		case !tt.found && guichet.ErrorCode(err) != guichet.ENOTFOUND:
			t.Errorf("Session at %v = %+v, %v; want not found", tt.now, got, err)
		}
	}
	// A session created after another expired is found, at its own time.
	b := staff.Session{TokenHash: "bb22", User: "awa", CSRF: "c", Created: expires.Add(time.Minute), Expires: expires.Add(2 * time.Hour)}
	noErr(t, s.CreateSession(ctx, b))
	if got := must[staff.Session](t)(s.Session(ctx, "bb22", b.Created, 0)); !sameSession(got, seenAt(b, b.Created)) {
		t.Errorf("Session(bb22) = %+v, want %+v", got, seenAt(b, b.Created))
	}
	_, err := s.Session(ctx, "aa11", b.Created, 0)
	wantCode(t, err, guichet.ENOTFOUND)
}

// testSessionIdle: a session unused for idle ends, one in use goes on;
// each use counts from itself, and a read of an earlier time does not
// move the last use back.
func testSessionIdle(t *testing.T, s Store) {
	ctx := t.Context()
	noErr(t, s.AddUser(ctx, user("awa")))
	const idle = 30 * time.Minute
	a := staff.Session{TokenHash: "aa11", User: "awa", CSRF: "c", Created: t0, Expires: t0.Add(12 * time.Hour)}
	noErr(t, s.CreateSession(ctx, a))
	steps := []struct {
		now      time.Time
		found    bool
		lastSeen time.Time
	}{
		{t0.Add(idle - time.Second), true, t0.Add(idle - time.Second)},
		{t0.Add(2*idle - 2*time.Second).In(wat), true, t0.Add(2*idle - 2*time.Second)},
		{t0.Add(time.Minute), true, t0.Add(2*idle - 2*time.Second)}, // an earlier clock: the last use stays
		{t0.Add(3*idle - 2*time.Second), false, time.Time{}},
		{t0.Add(2*idle - 2*time.Second), false, time.Time{}}, // ended is ended
	}
	for i, st := range steps {
		got, err := s.Session(ctx, "aa11", st.now, idle)
		switch {
		case st.found && (err != nil || !sameSession(got, seenAt(a, st.lastSeen))):
			t.Errorf("step %d: Session at %v = %+v, %v; want %+v", i+1, st.now, got, err, seenAt(a, st.lastSeen))
		case !st.found && guichet.ErrorCode(err) != guichet.ENOTFOUND:
			t.Errorf("step %d: Session at %v = %+v, %v; want not found", i+1, st.now, got, err)
		}
	}
	// Idle 0: no idle timeout.
	b := staff.Session{TokenHash: "bb22", User: "awa", CSRF: "c", Created: t0, Expires: t0.Add(12 * time.Hour)}
	noErr(t, s.CreateSession(ctx, b))
	must[staff.Session](t)(s.Session(ctx, "bb22", t0.Add(11*time.Hour), 0))
}

// testDeleteSessions signs an account out everywhere, or everywhere but
// one browser; other accounts' sessions stay.
func testDeleteSessions(t *testing.T, s Store) {
	ctx := t.Context()
	noErr(t, s.AddUser(ctx, user("awa")))
	noErr(t, s.AddUser(ctx, user("moussa")))
	for _, h := range []string{"a1", "a2", "a3"} {
		noErr(t, s.CreateSession(ctx, staff.Session{TokenHash: h, User: "awa", Created: t0, Expires: t0.Add(time.Hour)}))
	}
	noErr(t, s.CreateSession(ctx, staff.Session{TokenHash: "m1", User: "moussa", Created: t0, Expires: t0.Add(time.Hour)}))
	found := func() []string {
		var hs []string
		for _, h := range []string{"a1", "a2", "a3", "m1"} {
			if _, err := s.Session(ctx, h, t0, 0); err == nil {
				hs = append(hs, h)
			}
		}
		return hs
	}
	noErr(t, s.DeleteSessions(ctx, "awa", "a2"))
	if got := found(); !slices.Equal(got, []string{"a2", "m1"}) {
		t.Errorf("after DeleteSessions(awa, keep a2): %v, want [a2 m1]", got)
	}
	noErr(t, s.DeleteSessions(ctx, "awa", ""))
	if got := found(); !slices.Equal(got, []string{"m1"}) {
		t.Errorf("after DeleteSessions(awa): %v, want [m1]", got)
	}
	noErr(t, s.DeleteSessions(ctx, "nobody", ""))
}
