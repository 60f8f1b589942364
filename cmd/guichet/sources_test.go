package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/phone"
	"github.com/guichet/guichet/smpp/smsctest"
)

// Each SMPP operator's SMS carry its own source: (before, every operator
// but the first sent under the first's); one that names none sends under
// the default, 8080.
func TestEachOperatorsSource(t *testing.T) {
	mtn, orange, nexttel := smsctest.NewServer(smsctest.Options{}), smsctest.NewServer(smsctest.Options{}), smsctest.NewServer(smsctest.Options{})
	for _, s := range []*smsctest.Server{mtn, orange, nexttel} {
		t.Cleanup(s.Close)
	}
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := writeFile(file, fmt.Sprintf(`http: 127.0.0.1:0
demo: true
smpp:
  operators:
    - {name: mtn, addr: %q, system_id: guichet, source: "8000"}
    - {name: orange, addr: %q, system_id: guichet, source: "GUICHET"}
    - {name: nexttel, addr: %q, system_id: guichet}
`, mtn.Addr(), orange.Addr(), nexttel.Addr())); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig([]string{"--config", file}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	base, _, _ := serveTest(t, cfg)

	// Each applies by USSD on the demo's operator, from a number of each
	// operator (Cameroon's routes: 677 MTN, 699 Orange, 662 Nexttel).
	want := map[string]struct {
		srv    *smsctest.Server
		source string
	}{"+237677500001": {mtn, "8000"}, "+237699500002": {orange, "GUICHET"}, "+237662500003": {nexttel, "8080"}}
	for citizen := range want {
		text := ""
		for _, in := range []string{"", "1", "2", "1", "Ngo Bassa", "01011990", "1"} {
			text = strings.TrimPrefix(text+"*"+in, "*")
			post(t, base+"/ussd/demo", "application/x-www-form-urlencoded",
				url.Values{"sessionId": {"src" + citizen}, "phoneNumber": {citizen}, "serviceCode": {"*123#"}, "text": {text}}.Encode(), nil)
		}
	}
	for citizen, w := range want {
		var got []string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			got = got[:0]
			for _, s := range w.srv.Submitted() {
				if "+"+s.Message.DestAddr == citizen {
					got = append(got, s.Message.SourceAddr)
				}
			}
			if len(got) > 0 {
				break
			}
		}
		if len(got) != 1 || got[0] != w.source {
			t.Errorf("the SMS to %s left with sources %q, want [%s]", phone.Mask(citizen), got, w.source)
		}
	}
}

// log_format: json writes the log as one JSON object a line, each with its
// level and message, and the operator's lines with their operator key.
func TestJSONLogs(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := writeFile(file, "http: 127.0.0.1:0\nlog_format: json\noperators:\n  - {name: orange, dialect: africastalking, credential: k}\n"); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig([]string{"--config", file}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	_, logs, stop := serveTest(t, cfg)
	stop()
	n, operator := 0, false
	for line := range strings.Lines(logs.String()) {
		if !strings.HasPrefix(line, "{") {
			continue // what serve prints for people (the first administrator's password in memory)
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("a log line is not JSON: %v: %s", err, line)
		}
		if rec["level"] == nil || rec["msg"] == nil {
			t.Errorf("a log line without level or msg: %s", line)
		}
		if rec["msg"] == "operator ready" && rec["operator"] == "orange" {
			operator = true
		}
		n++
	}
	if n < 3 || !operator {
		t.Errorf("%d JSON lines, the operator's line found: %v; the log:\n%s", n, operator, logs.String())
	}
	if _, err := loadConfig([]string{"--config", writeTemp(t, "log_format: xml\n")}, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "log_format") {
		t.Errorf("log_format: xml: %v, want a refusal", err)
	}
}

func writeTemp(t *testing.T, yaml string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := writeFile(file, yaml); err != nil {
		t.Fatal(err)
	}
	return file
}
