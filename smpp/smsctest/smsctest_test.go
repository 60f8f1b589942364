package smsctest_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/guichet/guichet/smpp/smsctest"
)

// TestNewServer: a simulator on loopback, that Close stops.
func TestNewServer(t *testing.T) {
	srv := smsctest.NewServer(smsctest.Options{})
	host, _, err := net.SplitHostPort(srv.Addr())
	if err != nil || host != "127.0.0.1" {
		t.Errorf("Addr = %q, %v; want 127.0.0.1:port", srv.Addr(), err)
	}
	if err := srv.EnquireLink(context.Background()); !errors.Is(err, smsctest.ErrNotBound) {
		t.Errorf("EnquireLink unbound = %v, want ErrNotBound", err)
	}
	srv.Close()
	if c, err := net.DialTimeout("tcp", srv.Addr(), time.Second); err == nil {
		c.Close()
		t.Error("still listening after Close")
	}
}
