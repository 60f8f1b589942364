package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A campaign's audience over a slow link: an upload that takes longer than
// the server's read timeout is read whole as long as it keeps coming
// (here 1 s of read timeout, the upload 2 s at about 50 KiB/s, above the
// 16 KiB/s it must keep up), while the protection stays: an upload that
// dribbles below that rate is cut long before its budget, and a slow body
// to another route is cut at the read timeout.
func TestSlowUploads(t *testing.T) {
	cfg := defaultConfig()
	cfg.HTTP = "127.0.0.1:0"
	cfg.Timeouts = HTTPTimeouts{ReadHeader: time.Second, Read: time.Second, Write: 2 * time.Second, UploadRate: 16 << 10, Upload: 8 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	ln := freePort(t)
	addr := ln.Addr().String()
	done := make(chan error, 1)
	logs := &syncBuffer{}
	go func() { done <- serve(ctx, cfg, ln, logs) }()
	t.Cleanup(func() { cancel(); <-done })
	waitServing(t, "http://"+addr, done)
	key := demoKey(t, logs, "civil-status")

	var csv strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&csv, "+2376778%05d,Citoyen numero %d\n", i, i)
	}
	campaign, _ := json.Marshal(map[string]any{"name": "Vaccination Wouri", "text": map[string]string{"fr": "Vaccination gratuite samedi."},
		"audience": map[string]string{"csv": csv.String()}})
	t.Logf("a body of %d bytes", len(campaign))

	for _, tt := range []struct {
		name, path string
		body       []byte
		rate       int // bytes a second the client sends
		want       int // 0: cut (no answer, or 400 "timeout")
	}{
		{"an upload slower than the read timeout", "/api/v1/campaigns", campaign, 50 << 10, http.StatusCreated},
		{"an upload below the rate", "/api/v1/campaigns", campaign, 4 << 10, 0},
		{"a slow body elsewhere", "/api/v1/messages", []byte(`{"to": "677000001", "text": {"fr": "` + strings.Repeat("x", 100) + `"}}`), 40, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			code, answer := slowPost(t, addr, tt.path, key, tt.body, tt.rate)
			took := time.Since(start)
			t.Logf("%d after %v: %.200s", code, took.Round(10*time.Millisecond), answer)
			switch {
			case tt.want != 0 && code != tt.want:
				t.Errorf("%d %s after %v, want %d", code, answer, took, tt.want)
			case tt.want != 0 && took < cfg.Timeouts.Read:
				t.Errorf("it took %v, not longer than the read timeout: the test proves nothing", took)
			case tt.want == 0 && (code == http.StatusCreated || code == http.StatusAccepted):
				t.Errorf("%d after %v: a client below the rate was read whole", code, took)
			case tt.want == 0 && took > 4*time.Second:
				t.Errorf("cut after %v, want within a few seconds", took)
			}
		})
	}
}

// slowPost POSTs body to path at about rate bytes a second, in pieces
// every 100 ms, and returns the answer's status and body (0 if the
// connection was cut before an answer).
func slowPost(t *testing.T, addr, path, key string, body []byte, rate int) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		path, addr, key, len(body))
	piece := max(rate/10, 1)
	for len(body) > 0 {
		n := min(piece, len(body))
		if _, err := c.Write(body[:n]); err != nil {
			break // cut: read what the server said, if anything
		}
		body = body[n:]
		time.Sleep(100 * time.Millisecond)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var b strings.Builder
	bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.StatusCode, b.String()
}
