package ussd

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/peer"
	"github.com/guichet/guichet/phone"
)

// Stepper runs one hop of a dialogue. *Engine is one.
type Stepper interface {
	Step(ctx context.Context, req Request) (Reply, error)
}

// Operator is one configured operator: how it speaks and how it proves who
// it is.
type Operator struct {
	Name    string
	Dialect Dialect
	// Credential, when set, must come with every request: as an x-api-key
	// header, an "Authorization: Bearer" token, a basic-auth password or a
	// "key" query parameter (gateways differ in what they can send).
	Credential string
	// Certs, when set, require a client certificate of the operator's own
	// CAs (mutual TLS) with every request: besides Credential when both
	// are set, instead of it when Credential is empty.
	Certs *ClientCerts
	// Allow, when set, are the only networks the operator's requests may
	// come from (source: the TCP peer, or what Proxies say); others get
	// 403, whatever they carry.
	Allow []netip.Prefix
	// Proxies are the proxies in front of the gateway whose
	// X-Forwarded-For is believed for Allow; no other's is.
	Proxies []netip.Prefix
	// Open accepts requests without a credential, from anyone (the demo's
	// operator): nothing is granted for a loopback address, which every
	// request has behind a proxy on the same host.
	Open bool
	// Region is the country assumed for numbers sent without a country code.
	Region string
}

// MaxBody is the largest request body a dialect reads.
const MaxBody = 16 << 10

// Handler serves one operator's hops at its path: it checks where the
// request comes from, then the credential and the client certificate,
// decodes with the operator's dialect, validates, runs the step and encodes
// the screen. Bad input of any kind gets a 4xx, never a 500.
type Handler struct {
	Op     Operator
	Step   Stepper
	Log    *slog.Logger
	Notice bool // serve the dialect's end-of-session notices instead of hops
	// ObserveHop, if set, is told each hop's duration.
	ObserveHop func(dialect string, d time.Duration)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	d := h.Op.Dialect
	if len(h.Op.Allow) > 0 {
		if from := peer.Addr(r, h.Op.Proxies); !peer.Within(from, h.Op.Allow) {
			h.Log.Warn("refused a request from outside the operator's networks",
				"operator", h.Op.Name, "remote", r.RemoteAddr, "source", from, "path", r.URL.Path)
			d.EncodeError(w, http.StatusForbidden, "not from this operator's networks")
			return
		}
	}
	if h.Op.Certs != nil {
		if err := h.Op.Certs.check(r.TLS); err != nil {
			h.Log.Warn("refused a request without a valid client certificate",
				"operator", h.Op.Name, "remote", r.RemoteAddr, "path", r.URL.Path, "err", err)
			d.EncodeError(w, http.StatusUnauthorized, "missing or invalid client certificate")
			return
		}
	}
	if !h.authorised(r) {
		h.Log.Warn("refused a request without a valid credential",
			"operator", h.Op.Name, "remote", r.RemoteAddr, "path", r.URL.Path)
		d.EncodeError(w, http.StatusUnauthorized, "missing or invalid credential")
		return
	}
	if r.Method != http.MethodPost {
		d.EncodeError(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)

	var req Request
	var err error
	if h.Notice {
		n, ok := d.(Notifier)
		if !ok {
			d.EncodeError(w, http.StatusNotFound, "this dialect sends no notices")
			return
		}
		req, err = n.DecodeNotice(r)
	} else {
		req, err = d.Decode(r)
	}
	if err != nil {
		status := http.StatusBadRequest
		var re *RequestError
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			status = http.StatusRequestEntityTooLarge
		case errors.As(err, &re) && re.Status != 0:
			status = re.Status
		}
		h.Log.Info("refused a request it could not read", "operator", h.Op.Name, "status", status, "err", err)
		d.EncodeError(w, status, err.Error())
		return
	}
	req.Operator, req.Dialect = h.Op.Name, d.Name()
	if err := req.Normalize(h.Op.Region); err != nil {
		h.Log.Info("refused an invalid request", "operator", h.Op.Name, "err", err)
		d.EncodeError(w, http.StatusBadRequest, guichet.ErrorMessage(err))
		return
	}

	rep, err := h.Step.Step(r.Context(), req)
	switch code := guichet.ErrorCode(err); code {
	case "":
	case guichet.EINVALID:
		h.Log.Info("refused an invalid hop", "operator", h.Op.Name, "phone", phone.Mask(req.Phone), "err", err)
		d.EncodeError(w, http.StatusBadRequest, guichet.ErrorMessage(err))
		return
	default:
		// The engine answers every expected trouble with a screen; this is
		// the store or a bug. The caller still gets a screen, not a cut.
		h.Log.Error("hop failed", "operator", h.Op.Name, "session_id", req.SessionID,
			"phone", phone.Mask(req.Phone), "err", err)
		rep = Reply{Text: unavailable, End: true}
	}
	d.Encode(w, req, rep)
	if h.ObserveHop != nil && !h.Notice {
		h.ObserveHop(d.Name(), time.Since(start))
	}
}

// unavailable is the last-resort screen, in both languages since the
// caller's may be unknown here.
const unavailable = "Service momentanement indisponible. Rappelez plus tard.\nService unavailable. Please dial again later."

// authorised checks the credential: one that is configured must come; none
// is needed from an operator that proves itself by certificate (checked
// before) or is open.
func (h *Handler) authorised(r *http.Request) bool {
	if h.Op.Credential == "" {
		return h.Op.Open || h.Op.Certs != nil
	}
	for _, c := range credentials(r) {
		if c != "" && subtle.ConstantTimeCompare([]byte(c), []byte(h.Op.Credential)) == 1 {
			return true
		}
	}
	return false
}

func credentials(r *http.Request) []string {
	cs := []string{r.Header.Get("X-Api-Key"), r.URL.Query().Get("key")}
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		cs = append(cs, a[7:])
	}
	if _, p, ok := r.BasicAuth(); ok {
		cs = append(cs, p)
	}
	return cs
}
