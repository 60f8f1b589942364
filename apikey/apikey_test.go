package apikey_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/guichet/guichet/apikey"
	"github.com/guichet/guichet/apikey/apikeytest"
)

func TestMemory(t *testing.T) {
	apikeytest.Run(t, &apikey.Memory{})
}

// Keys are long, random and URL-safe; their hash is what is kept.
func TestNew(t *testing.T) {
	a, b := apikey.New(), apikey.New()
	if a == b || !strings.HasPrefix(a, "gk_") || len(a) != 3+43 || strings.ContainsAny(a, "+/=") {
		t.Errorf("keys %q and %q", a, b)
	}
	if bytes.Equal(apikey.Hash(a), apikey.Hash(b)) || len(apikey.Hash(a)) != 32 || !bytes.Equal(apikey.Hash(a), apikey.Hash(a)) {
		t.Error("hashes do not tell keys apart")
	}
}
