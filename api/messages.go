package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/notify"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/webhook"
)

// Notifier sends what an administration asks (notify.Sender): the answer
// and its bytes, the same bytes for a repeated idempotency key.
type Notifier interface {
	Send(ctx context.Context, owner, keyID, idem string, r notify.Request) (notify.Answer, []byte, error)
}

// Messages reads back the messages an administration sent.
type Messages interface {
	OwnMessage(ctx context.Context, owner string, id int64) (outbox.Message, error)
	OwnMessages(ctx context.Context, owner string, statuses []string, after int64, limit int) ([]outbox.Message, error)
}

// MaxSendBody bounds the body of POST /api/v1/messages: a thousand numbers
// and two texts of six parts.
const MaxSendBody = 256 << 10

// SendRequest is the body of POST /api/v1/messages.
type SendRequest struct {
	To       numbers           `json:"to"`
	Text     map[string]string `json:"text,omitempty"`
	Template *SendTemplate     `json:"template,omitempty"`
	Lang     string            `json:"lang,omitempty"`
}

// SendTemplate names a message of one of the key's services.
type SendTemplate struct {
	Service string            `json:"service"`
	Name    string            `json:"name"`
	Vars    map[string]string `json:"vars,omitempty"`
}

// numbers is one number or a list of them.
type numbers []string

func (n *numbers) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '[' { // a list is not tried as a string first
		var one string
		if err := json.Unmarshal(b, &one); err == nil {
			*n = []string{one}
			return nil
		}
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("to: a number, or a list of numbers, as strings")
	}
	*n = many
	return nil
}

func (s *Server) sendMessages(w http.ResponseWriter, r *http.Request) {
	var req SendRequest
	if !decodeBody(w, r, MaxSendBody, &req) {
		return
	}
	idem := r.Header.Get("Idempotency-Key")
	if len(idem) > MaxKey || !utf8.ValidString(idem) {
		writeProblem(w, r, http.StatusBadRequest, "Idempotency-Key is over "+strconv.Itoa(MaxKey)+" characters or not UTF-8")
		return
	}
	nr := notify.Request{To: req.To, Text: req.Text, Lang: req.Lang}
	if t := req.Template; t != nil {
		nr.Template = &notify.Template{Service: t.Service, Name: t.Name, Vars: t.Vars}
	}
	k := apiKey(r)
	// The day's budget: this request reserves as many messages as it has
	// numbers, gives back what it did not send (refused, STOP, a request
	// sent before, an error), and is refused if the reservation goes over.
	perDay, _ := k.Limits()
	day, left := dayKey(k, s.now())
	ttl := left + time.Hour
	used, err := s.add(r.Context(), day, ttl, len(nr.To))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	giveBack := func(n int) {
		if n > 0 {
			if _, err := s.add(context.WithoutCancel(r.Context()), day, ttl, -n); err != nil {
				s.Log.Warn("giving back a key's daily budget", "key_id", k.ID, "err", err)
			}
		}
	}
	if used > perDay {
		giveBack(len(nr.To))
		w.Header().Set("Retry-After", strconv.Itoa(int(left.Seconds())+1))
		writeProblem(w, r, http.StatusTooManyRequests, fmt.Sprintf("this key may send %d messages a day: %d sent today; the count starts again at midnight (Africa/Douala)", perDay, used-len(nr.To)))
		return
	}
	a, body, err := s.Notify.Send(r.Context(), k.Owner, k.ID, idem, nr)
	if err != nil {
		giveBack(len(nr.To))
		if guichet.ErrorCode(err) == guichet.EUNAUTHORIZED {
			// Revoked or expired since it was cached: say which.
			hash := r.Context().Value(ownerKey{}).(authed).hash
			s.keys.forget(hash)
			if k2, _, ferr := s.findKey(r, hash, false, s.now()); ferr != nil {
				s.refuseKey(w, r, k2, ferr)
				return
			}
			s.refuseKey(w, r, k, err)
			return
		}
		s.fail(w, r, err)
		return
	}
	if a.Replayed {
		giveBack(len(nr.To))
	} else {
		giveBack(len(nr.To) - len(a.Messages))
	}
	s.Log.Info("messages queued", "owner", k.Owner, "key_id", k.ID, "messages", len(a.Messages), "opted_out", len(a.OptedOut), "refused", len(a.Refused))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	w.Write(body)
}

// decodeBody reads one JSON object of at most limit bytes into v, unknown
// fields refused; it answers the problem and returns false if it cannot.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		writeProblem(w, r, http.StatusUnsupportedMediaType, "send the body as application/json")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeProblem(w, r, http.StatusRequestEntityTooLarge, "the body is over "+strconv.FormatInt(limit>>10, 10)+" KiB")
			return false
		}
		writeProblem(w, r, http.StatusBadRequest, "malformed JSON body: "+err.Error())
		return false
	}
	if dec.Decode(&struct{}{}) != io.EOF {
		writeProblem(w, r, http.StatusBadRequest, "the body must hold one JSON object")
		return false
	}
	return true
}

// Message is an SMS as the administration that sent it sees it.
type Message = outbox.Report

var states = outbox.ReportStates

func (s *Server) getMessage(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		writeProblem(w, r, http.StatusNotFound, "no message "+chi.URLParam(r, "id"))
		return
	}
	m, err := s.Messages.OwnMessage(r.Context(), owner(r), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.auditRead(r, "api.message", "message:"+strconv.FormatInt(m.ID, 10), "", []string{m.Phone}); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, outbox.ReportOf(m))
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var statuses []string
	if st := q.Get("state"); st != "" {
		if st == "opted_out" {
			st = "failed" // then told apart by reason below
		}
		var ok bool
		if statuses, ok = states[st]; !ok {
			writeProblem(w, r, http.StatusBadRequest, "state must be one of queued, sent, delivered, undeliverable, expired, failed, opted_out")
			return
		}
	}
	var after int64
	if a := q.Get("after"); a != "" {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil || n < 0 {
			writeProblem(w, r, http.StatusBadRequest, "after must be a message id")
			return
		}
		after = n
	}
	limit := 50
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxLimit {
			writeProblem(w, r, http.StatusBadRequest, "limit must be a whole number from 1 to "+strconv.Itoa(MaxLimit))
			return
		}
		limit = n
	}
	msgs, err := s.Messages.OwnMessages(r.Context(), owner(r), statuses, after, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		Messages []Message `json:"messages"`
		Next     string    `json:"next,omitempty"`
	}{Messages: []Message{}}
	want := q.Get("state")
	for _, m := range msgs {
		if r := outbox.ReportOf(m); want == "" || r.State == want {
			out.Messages = append(out.Messages, r)
		}
	}
	if len(msgs) == limit {
		out.Next = strconv.FormatInt(msgs[len(msgs)-1].ID, 10)
	}
	if len(out.Messages) > 0 {
		var shown []string
		for _, m := range out.Messages {
			if !slices.Contains(shown, m.To) {
				shown = append(shown, m.To)
			}
		}
		if err := s.auditRead(r, "api.messages", "", fmt.Sprintf("%d messages %s", len(out.Messages), query(r, "state", "after", "limit")), shown); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// Callbacks keeps each key's callback URL and signing secret.
type Callbacks interface {
	SetCallback(ctx context.Context, keyID, url, secret string) error
}

// CallbackRequest is the body of PUT /api/v1/callback.
type CallbackRequest struct {
	URL string `json:"url"`
}

// Callback is a key's delivery callback; Secret only when it is made.
type Callback struct {
	URL    string `json:"url"`
	Secret string `json:"secret,omitempty"`
}

func (s *Server) getCallback(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, Callback{URL: apiKey(r).CallbackURL})
}

func (s *Server) putCallback(w http.ResponseWriter, r *http.Request) {
	if s.Callbacks == nil {
		writeProblem(w, r, http.StatusNotImplemented, "delivery callbacks need the gateway on PostgreSQL")
		return
	}
	var req CallbackRequest
	if !decodeBody(w, r, MaxBody, &req) {
		return
	}
	if err := webhook.CheckURL(r.Context(), req.URL, s.CallbackAllow, net.DefaultResolver); err != nil {
		s.fail(w, r, err)
		return
	}
	k, secret := apiKey(r), webhook.NewSecret()
	if err := s.Callbacks.SetCallback(r.Context(), k.ID, req.URL, secret); err != nil {
		s.fail(w, r, err)
		return
	}
	s.Log.Info("delivery callback set", "owner", k.Owner, "key_id", k.ID)
	writeJSON(w, http.StatusOK, Callback{URL: req.URL, Secret: secret})
}

func (s *Server) deleteCallback(w http.ResponseWriter, r *http.Request) {
	if s.Callbacks == nil {
		writeProblem(w, r, http.StatusNotImplemented, "delivery callbacks need the gateway on PostgreSQL")
		return
	}
	if err := s.Callbacks.SetCallback(r.Context(), apiKey(r).ID, "", ""); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
