package guichet

import (
	"net/url"
	"strings"
	"testing"
)

func TestValidText(t *testing.T) {
	for s, want := range map[string]bool{"": true, "Ngo Bassa": true, "é\n\t": true, "a\x00b": false, "\xff": false, "a\xc3": false} {
		if got := ValidText(s); got != want {
			t.Errorf("ValidText(%q) = %v", s, got)
		}
		if err := CheckText("note", s); (err == nil) != want || err != nil && (ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), "note")) {
			t.Errorf("CheckText(%q) = %v", s, err)
		}
	}
}

func TestBadValue(t *testing.T) {
	tests := []struct {
		query, name string
		bad         bool
	}{
		{"user=awa&subject=%2B237", "", false},
		{"user=a%00b&subject=ok", "user", true},
		{"user=ok&subject=%ff", "subject", true},
		{"a=1&a=%00", "a", true},
		{"na%00me=1", "na\uFFFDme", true},
		{"%ff%fe=1", "\uFFFD", true},
	}
	for _, tt := range tests {
		v, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		if name, bad := BadValue(v); name != tt.name || bad != tt.bad {
			t.Errorf("BadValue(%s) = %q, %v; want %q, %v", tt.query, name, bad, tt.name, tt.bad)
		}
	}
	if got := Readable(strings.Repeat("é", 40)); len(got) > 64+len("…") || !ValidText(got) {
		t.Errorf("Readable of a long text = %q", got)
	}
}
