package api

import (
	"encoding/json"
	"net/http"

	"github.com/guichet/guichet"
)

// Problem is an RFC 9457 problem details object: every error the API
// answers, as application/problem+json.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// statuses maps domain error codes to HTTP, once for the whole API.
var statuses = map[string]int{
	guichet.EINVALID:      http.StatusBadRequest,
	guichet.ENOTFOUND:     http.StatusNotFound,
	guichet.ECONFLICT:     http.StatusConflict,
	guichet.EUNAVAILABLE:  http.StatusServiceUnavailable,
	guichet.EUNAUTHORIZED: http.StatusUnauthorized,
	guichet.ELIMITED:      http.StatusTooManyRequests,
}

// problemTypes name each kind of problem with a URI integrators can look up
// in README.md.
var problemTypes = map[int]string{
	http.StatusBadRequest:            "invalid",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusNotFound:              "not-found",
	http.StatusConflict:              "conflict",
	http.StatusRequestEntityTooLarge: "too-large",
	http.StatusUnsupportedMediaType:  "unsupported-media-type",
	http.StatusServiceUnavailable:    "unavailable",
	http.StatusNotImplemented:        "not-implemented",
	http.StatusTooManyRequests:       "too-many-requests",
	http.StatusInternalServerError:   "internal",
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(Problem{
		Type:     "https://guichet.cm/problems/" + problemTypes[status],
		Title:    http.StatusText(status),
		Status:   status,
		Detail:   detail,
		Instance: r.URL.Path,
	})
}

// writeError answers a domain error with its status; internal details never
// reach the client.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, ok := statuses[guichet.ErrorCode(err)]
	if !ok {
		status = http.StatusInternalServerError
	}
	writeProblem(w, r, status, guichet.ErrorMessage(err))
}

// writeJSON answers v as JSON, HTML-safe (<, > and & escaped, as
// encoding/json does by default): a citizen's text never reads as markup,
// wherever an integrator shows it.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
