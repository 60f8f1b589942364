package citest

import "testing"

func TestOn(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want bool
	}{{"true", true}, {"1", true}, {"TRUE", true}, {"", false}, {"false", false}, {"yes", false}} {
		t.Setenv("CI", tc.env)
		if got := On(); got != tc.want {
			t.Errorf("CI=%q: On() = %v, want %v", tc.env, got, tc.want)
		}
	}
}

// recorder is a testing.TB that records whether it failed or skipped.
type recorder struct {
	testing.TB
	failed, skipped bool
}

func (r *recorder) Helper()      {}
func (r *recorder) Fatal(...any) { r.failed = true }
func (r *recorder) Skip(...any)  { r.skipped = true }

func TestMissing(t *testing.T) {
	for _, env := range []string{"true", ""} {
		t.Setenv("CI", env)
		r := &recorder{TB: t}
		Missing(r, "no redis-server")
		if r.failed != (env == "true") || r.skipped != (env != "true") {
			t.Errorf("CI=%q: failed %v, skipped %v", env, r.failed, r.skipped)
		}
	}
}
