package hotline

import "testing"

// Sign-in sends the browser back only to a page of the console.
func TestLocalNext(t *testing.T) {
	for _, prefix := range []string{"/hotline", ""} {
		c := &Console{Prefix: prefix}
		home := prefix + "/"
		for _, tt := range []struct{ next, want string }{
			{prefix + "/callbacks", prefix + "/callbacks"},
			{prefix + "/callers/+237677000001?x=1", prefix + "/callers/+237677000001?x=1"},
			{"", home},
			{"//evil.example/", home},
			{"/\t/evil.example/", home},
			{"/\\evil.example/", home},
			{"https://evil.example" + prefix + "/", home},
			{"javascript:alert(1)", home},
			{"\x00" + prefix + "/", home},
		} {
			if got := c.localNext(tt.next); got != tt.want {
				t.Errorf("prefix %q: localNext(%q) = %q, want %q", prefix, tt.next, got, tt.want)
			}
		}
	}
}
