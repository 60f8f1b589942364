package main

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/guichet/guichet/kanneltest"
)

// serve collects garbage at GOGC 400 unless GOGC says otherwise, as its
// /metrics tells (go_gc_gogc_percent).
func TestServeGCPercent(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{nil, "400"},
		{[]string{"GOGC=150"}, "150"},
	} {
		t.Run(fmt.Sprint(tc.env), func(t *testing.T) {
			port := kanneltest.FreePorts(t, 1)[0]
			_, out := gatewayProcess(t, fmt.Sprintf("http: 127.0.0.1:%d\n", port), tc.env...)
			gogc := regexp.MustCompile(`(?m)^go_gc_gogc_percent (\S+)$`)
			var page string
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
				if err != nil {
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				page = string(b)
				break
			}
			m := gogc.FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no go_gc_gogc_percent on /metrics (serve's output: %s)", out)
			}
			if m[1] != tc.want {
				t.Errorf("go_gc_gogc_percent %s, want %s", m[1], tc.want)
			}
		})
	}
}
