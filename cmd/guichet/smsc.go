package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/guichet/guichet/phone"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/smpp/smsc"
	"github.com/guichet/guichet/sms"
)

const smscUsage = `usage: guichet smsc [--smpp ADDR] [--http ADDR] [--system-id ID] [--password P] [--receipt-delay D] [--throttle-every N] [--drop-after N] [--resp-delay D] [--window N] [--rate N] [--keep N] [--quiet]

An SMSC simulator for demos and tests: SMPP on one address, and on the
other an HTTP endpoint that injects inbound SMS and USSD and lists what
was submitted.`

// smscCmd runs the SMSC simulator for demos and tests: SMPP on one address,
// and on another an HTTP endpoint that injects inbound SMS and USSD and
// lists what was submitted. It prints every SMS it is sent.
func smscCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("smsc", smscUsage, stdout)
	smppAddr := fs.String("smpp", "127.0.0.1:2775", "SMPP listen `address`")
	httpAddr := fs.String("http", "127.0.0.1:2776", "HTTP `address` for injecting inbound SMS and USSD")
	systemID := fs.String("system-id", "", "system_id binds must give (empty: any)")
	password := fs.String("password", "", "password binds must give (empty: any)")
	receipts := fs.Duration("receipt-delay", 2*time.Second, "send delivery receipts this long after each submit (0: none)")
	throttle := fs.Int("throttle-every", 0, "answer every Nth submit ESME_RTHROTTLED (fault mode)")
	drop := fs.Int("drop-after", 0, "drop a connection after N PDUs (fault mode)")
	slow := fs.Duration("resp-delay", 0, "delay every submit_sm_resp (fault mode: a slow SMSC)")
	window := fs.Int("window", 0, "answer ESME_RTHROTTLED to a submit_sm over N waiting for their answer on its bind (fault mode: a small SMSC window)")
	quiet := fs.Bool("quiet", false, "do not print the SMS submitted (benchmarks)")
	keep := fs.Int("keep", 0, "remember at most N submits (0: 200,000)")
	tps := fs.Float64("rate", 0, "answer ESME_RTHROTTLED to submit_sm over N a second, all binds together (fault mode: the account's TPS)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *smppAddr)
	if err != nil {
		return fmt.Errorf("listening for SMPP on %s: %w", *smppAddr, err)
	}
	srv := smsc.Serve(ln, smsc.Options{SystemID: *systemID, Password: *password,
		Receipts: *receipts > 0, ReceiptDelay: *receipts, ThrottleEvery: *throttle, DropAfter: *drop, RespDelay: *slow,
		Window: *window, Rate: *tps, Keep: *keep, SubmitsOnly: true})
	defer srv.Close()
	log := slog.New(slog.NewTextHandler(stdout, nil)).With("comp", "smsc")

	r := chi.NewRouter()
	simulatorRoutes(r, srv)
	hs := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	hl, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		return fmt.Errorf("listening for HTTP on %s: %w", *httpAddr, err)
	}
	go hs.Serve(hl)
	defer hs.Close()
	fmt.Fprintf(stdout, "SMSC simulator: SMPP on %s, inject and inspect on http://%s (POST /inject/sms, POST /inject/ussd, GET /submitted)\n",
		ln.Addr(), hl.Addr())

	if *quiet {
		<-ctx.Done()
		return nil
	}
	seen := 0
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		subs := srv.Submitted()
		seen = min(seen, len(subs)) // past Keep, the oldest were forgotten
		for _, d := range describe(subs[seen:]) {
			log.Info("SMS submitted", "to", phone.Mask(d.To), "message_id", d.MessageID, "status", d.Status, "text", d.Text)
		}
		seen = len(subs)
	}
}

// submission is a submitted SMS as people read it.
type submission struct {
	To, From, Text, MessageID string
	Status                    uint32
}

func describe(subs []smsc.Submitted) []submission {
	out := make([]submission, 0, len(subs))
	for _, s := range subs {
		text, _, err := sms.Decode(s.Message.DataCoding, s.Message.ESMClass, s.Message.ShortMessage)
		if err != nil {
			text = fmt.Sprintf("(undecodable: %v)", err)
		}
		out = append(out, submission{To: s.Message.DestAddr, From: s.Message.SourceAddr, Text: text,
			MessageID: s.MessageID, Status: s.Status})
	}
	return out
}

func answer(w http.ResponseWriter, err error) {
	var serr *smpp.StatusError
	switch {
	case err == nil:
		io.WriteString(w, "acknowledged\n")
	case errors.As(err, &serr):
		http.Error(w, fmt.Sprintf("the gateway refused it: %v", err), http.StatusConflict)
	default:
		http.Error(w, fmt.Sprintf("not delivered: %v", err), http.StatusServiceUnavailable)
	}
}

// simulatorRoutes mounts the simulator's HTTP side on r: POST /inject/sms,
// POST /inject/ussd, GET /submitted, GET /accepted (how many submit_sm it
// answered ESME_ROK).
func simulatorRoutes(r chi.Router, srv *smsc.Server) {
	r.Post("/inject/sms", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ From, To, Text string }
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10)).Decode(&in); err != nil || in.From == "" || in.Text == "" {
			http.Error(w, `send {"from": "+237677123456", "to": "8080", "text": "SUIVI 20000011"}`, http.StatusBadRequest)
			return
		}
		m, err := sms.Encode(in.Text, sms.Options{MaxParts: 1})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		err = srv.Inject(r.Context(), smpp.Inbound{SourceAddr: in.From, DestAddr: in.To, DataCoding: m.DataCoding,
			ESMClass: m.ESMClass, ShortMessage: m.Parts[0]})
		answer(w, err)
	})
	r.Post("/inject/ussd", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			From, To, Text string
			Op, Session    uint8
			Seq            uint8
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10)).Decode(&in); err != nil || in.From == "" {
			http.Error(w, `send {"from": "+237677123456", "to": "*123#", "op": 1, "session": 7, "seq": 0, "text": "*123#"}`, http.StatusBadRequest)
			return
		}
		answer(w, srv.Inject(r.Context(), smsc.USSD(in.From, in.To, in.Op, in.Session, in.Seq, in.Text)))
	})
	r.Get("/accepted", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, srv.Accepted())
	})
	r.Get("/submitted", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false) // people read it: "SUIVI <numero>", not \u003c
		enc.SetIndent("", "  ")
		enc.Encode(describe(srv.Submitted()))
	})
}
