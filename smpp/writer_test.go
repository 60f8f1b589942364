package smpp

import (
	"bufio"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := <-accepted
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// PDUs written at once by many goroutines all arrive whole, each
// goroutine's in its order, and fewer writes than PDUs carry them.
func TestWriterCombines(t *testing.T) {
	a, b := tcpPair(t)
	counting := &countingConn{Conn: a}
	w := NewWriter(counting)
	const writers, each = 50, 200
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				p := PDU{ID: CmdSubmitSM, Seq: uint32(g*each + i + 1), Body: make([]byte, i%40)}
				if sent, err := w.Write(p, time.Now().Add(5*time.Second)); err != nil || !sent {
					t.Errorf("write: %v, %v", sent, err)
					return
				}
			}
		})
	}
	last := map[int]int{}
	r := bufio.NewReader(b)
	for n := range writers * each {
		p, err := ReadPDU(r)
		if err != nil {
			t.Fatalf("PDU %d: %v", n, err)
		}
		g, i := int(p.Seq-1)/each, int(p.Seq-1)%each
		if prev, ok := last[g]; ok && i != prev+1 || !ok && i != 0 {
			t.Fatalf("writer %d: PDU %d after %d", g, i, prev)
		}
		if len(p.Body) != i%40 {
			t.Fatalf("PDU %d of writer %d: body of %d octets", i, g, len(p.Body))
		}
		last[g] = i
	}
	wg.Wait()
	if c := counting.writes(); c >= writers*each {
		t.Errorf("%d writes for %d PDUs: none combined", c, writers*each)
	} else {
		t.Logf("%d writes for %d PDUs", c, writers*each)
	}
}

// PDUs of goroutines woken together (as submits answered by one read wake
// their successors) go in one write, not one each: the writer lets them
// queue before it writes. One processor, so that without that they would
// run one after another, each writing alone.
func TestWriterWaitsForTheReady(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	a, b := tcpPair(t)
	counting := &countingConn{Conn: a}
	w := NewWriter(counting)
	const writers = 100
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			<-start
			if _, err := w.Write(PDU{ID: CmdSubmitSM, Seq: uint32(g + 1)}, time.Now().Add(5*time.Second)); err != nil {
				t.Error(err)
			}
		})
	}
	go func() { _, _ = io.Copy(io.Discard, b) }()
	time.Sleep(10 * time.Millisecond) // all of them waiting for start
	close(start)
	wg.Wait()
	if c := counting.writes(); c > 3 {
		t.Errorf("%d writes for %d PDUs made ready at once, want at most 3", c, writers)
	}
}

// A failed write fails the PDUs it carried and every one after it.
func TestWriterFails(t *testing.T) {
	a, _ := tcpPair(t)
	w := NewWriter(a)
	if sent, err := w.Write(PDU{ID: CmdEnquireLink, Seq: 1}, time.Time{}); err != nil || !sent {
		t.Fatalf("first write: %v, %v", sent, err)
	}
	a.Close()
	sent, err := w.Write(PDU{ID: CmdEnquireLink, Seq: 2}, time.Time{})
	if err == nil || sent {
		t.Fatalf("a write on a closed connection: sent %v, %v", sent, err)
	}
	if _, again := w.Write(PDU{ID: CmdEnquireLink, Seq: 3}, time.Time{}); !errors.Is(again, err) {
		t.Errorf("the write after a failure: %v, want %v", again, err)
	}
}

type countingConn struct {
	net.Conn
	mu sync.Mutex
	n  int
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.Conn.Write(b)
}

func (c *countingConn) writes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
