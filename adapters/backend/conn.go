package backend

import (
	"fmt"
	"net/http"
)

// Conn is what every connector holds: its checked configuration, its HTTP
// client and its runner (retries, breaker).
type Conn struct {
	Cfg    Config
	Client *http.Client
	Run    *Runner
}

// NewConn checks that cfg is of type want, fills its defaults, validates it,
// and builds the HTTP client (client if not nil, which cfg.TLS must then
// leave empty; otherwise one loading the TLS files, failing if they are
// missing or unusable).
func NewConn(cfg Config, want string, client *http.Client) (Conn, error) {
	if cfg.Type != want {
		return Conn{}, fmt.Errorf("%s: backend type %q, want %q", want, cfg.Type, want)
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return Conn{}, fmt.Errorf("%s backend %s: %w", want, cfg.Name, err)
	}
	client, err := Client(cfg, client)
	if err != nil {
		return Conn{}, fmt.Errorf("%s backend %s: %w", want, cfg.Name, err)
	}
	return Conn{Cfg: cfg, Client: client, Run: NewRunner(cfg, nil)}, nil
}
