package guichet

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorCode(t *testing.T) {
	tests := []struct {
		err       error
		code, msg string
	}{
		{nil, "", "internal error"},
		{Errorf(ECONFLICT, "slot %s full", "a"), ECONFLICT, "slot a full"},
		{fmt.Errorf("booking: %w", Errorf(ENOTFOUND, "no such office")), ENOTFOUND, "no such office"},
		{errors.New("dial tcp: refused"), EINTERNAL, "internal error"},
	}
	for _, tt := range tests {
		if got := ErrorCode(tt.err); got != tt.code {
			t.Errorf("ErrorCode(%v) = %q, want %q", tt.err, got, tt.code)
		}
		if got := ErrorMessage(tt.err); got != tt.msg {
			t.Errorf("ErrorMessage(%v) = %q, want %q", tt.err, got, tt.msg)
		}
	}
}
