package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/guichet/guichet/hotline"
	"github.com/guichet/guichet/inbox"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox/delivery"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/staff"
	"github.com/guichet/guichet/web"
)

// Config is the whole gateway's configuration: defaults, then the YAML file
// (--config), then the environment (REDIS_URL, DATABASE_URL), then flags.
type Config struct {
	HTTP string `yaml:"http"`
	// AdminHTTP, when set, is a second listen address for what on-call
	// reads (/metrics, /status/smpp) besides the probes, off the
	// operators' port: those two are then not served on HTTP. Plain
	// HTTP: a network of the operations' own.
	AdminHTTP string `yaml:"admin_http"`
	// RedisURL is where sessions, counters and caches live: one server,
	// a Sentinel master or a Cluster (redis.go); empty: in memory.
	RedisURL string `yaml:"redis_url" secret:"url"`
	// RedisURLFile is a file holding RedisURL, instead of it.
	RedisURLFile string `yaml:"redis_url_file"`
	// RedisPrefix starts every key the gateway writes in Redis
	// ("guichet:"): deployments sharing one Redis each take their own.
	RedisPrefix string `yaml:"redis_prefix"`
	// DatabaseURL puts cases, bookings, API keys and the outbox in
	// PostgreSQL; empty: in memory.
	DatabaseURL string `yaml:"database_url" secret:"url"`
	// DatabaseURLFile is a file holding DatabaseURL, instead of it.
	DatabaseURLFile string           `yaml:"database_url_file"`
	Migrate         bool             `yaml:"migrate"` // apply the schema at start-up
	Seed            bool             `yaml:"seed"`    // add the demo offices and cases (always in memory)
	Menus           string           `yaml:"menus"`   // a folder; empty: the built-in catalogue
	LogLevel        slog.Level       `yaml:"log_level"`
	LogFormat       string           `yaml:"log_format"` // text (the default) or json: one object a line
	Engine          EngineConfig     `yaml:"engine"`
	Operators       []OperatorConfig `yaml:"operators"`

	SMPP SMPPConfig `yaml:"smpp"`
	// SMSDialogue tunes the menus walked by SMS (MENU to the short code).
	SMSDialogue SMSDialogueConfig `yaml:"sms_dialogue"`

	Hotline HotlineConfig `yaml:"hotline"`

	// Web is the citizens' web channel (/m/).
	Web WebConfig `yaml:"web"`

	API APIConfig `yaml:"api"`

	// Limits bound what one number does an hour, across the fleet.
	Limits LimitsConfig `yaml:"limits"`

	// Retention says how long citizens' data is kept (retention.go).
	Retention RetentionConfig `yaml:"retention"`

	// Demo runs the gateway as a demonstration: the demo USSD operator,
	// which takes no credential, at /ussd/demo (when no operators: are
	// configured), and an SMSC simulator in the process with its play area
	// at /simulator (when no smpp: operators are). Anyone who reaches the
	// gateway can then act as any phone number and read every SMS it
	// sent: nothing is granted for coming from loopback, since a proxy on
	// the same host makes every request loopback. Unset: on only for the
	// embedded default (no database, no operators, no SMSC). Refused with
	// a database unless DemoForce.
	Demo      *bool `yaml:"demo"`
	DemoForce bool  `yaml:"demo_force"`

	Timeouts HTTPTimeouts `yaml:"http_timeouts"`
	// ShutdownGrace is how long, on SIGTERM, the gateway keeps serving
	// with /readyz answering 503 before it stops accepting and drains
	// (5 s): the time for load balancers to see it not ready and send
	// elsewhere. At least their probe period; 0: drain at once.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`

	// TLS makes the gateway serve HTTPS itself (links.go): what
	// operators' client certificates need.
	TLS TLSConfig `yaml:"tls"`
	// TrustedProxies are the networks (CIDR) of the proxies in front of
	// the gateway whose X-Forwarded-For names a request's address: for
	// operators' allow-lists and, with hotline.trusted_proxies, the
	// console's sign-in backoffs. No other's is believed, loopback's
	// included.
	TrustedProxies []string `yaml:"trusted_proxies"`

	// Clock, when set, replaces the wall clock (tests).
	Clock func() time.Time `yaml:"-"`
}

// LimitsConfig is how many cases, bookings and callback requests one
// number may make an hour (0: cases.DefaultLimits; -1: no limit); a
// number over them hears a polite "try again later".
type LimitsConfig struct {
	CasesPerHour     int `yaml:"cases_per_hour"`
	BookingsPerHour  int `yaml:"bookings_per_hour"`
	CallbacksPerHour int `yaml:"callbacks_per_hour"`
}

// HotlineConfig tunes the hotline console (/hotline).
type HotlineConfig struct {
	// InsecureCookies lets the console's cookies travel over plain HTTP
	// between the browser and the gateway: never in production, where
	// the browser speaks HTTPS (to the gateway or to a proxy before it).
	// The embedded default on loopback needs no setting.
	InsecureCookies bool `yaml:"insecure_cookies"`
	// IdleTimeout ends a console session unused this long (30 min);
	// sessions end 12 hours after sign-in whatever their use.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// OneTimeFor is how long a one-time password signs in (24 h): the one
	// an administrator gives a new account on the Accounts page.
	// `guichet users add` has its own flag.
	OneTimeFor time.Duration `yaml:"one_time_for"`
	// TrustedProxies are the networks (CIDR) of the proxies in front of
	// the gateway whose X-Forwarded-For names a sign-in's address, which
	// the sign-in backoffs count by. Without them every request comes
	// from its TCP peer: behind a proxy not listed, from the proxy, so
	// that all sign-ins share one address's backoff.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// WebConfig tunes the citizens' web channel: the catalogue's dialogues as
// pages, signed in with a code by SMS.
type WebConfig struct {
	// Disabled leaves the web channel out: nothing is mounted at Path.
	Disabled bool `yaml:"disabled"`
	// Path is where the pages are served, with a trailing slash ("/m/").
	Path string `yaml:"path"`
	// FrameAncestors are the origins, besides the gateway's own, that may
	// show the pages in a frame (a portal of the same site: see
	// docs/CONFIG.md on cookies).
	FrameAncestors []string `yaml:"frame_ancestors"`
	// IdleTimeout ends a web session unused this long (30 min).
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// CodesPerAddress is how many sign-in codes one client address may
	// ask an hour (0: 10; -1: no limit).
	CodesPerAddress int `yaml:"codes_per_address"`
}

// reservedPaths are the first segments of the gateway's other routes,
// which web.path may not take.
var reservedPaths = []string{"api", "healthz", "hotline", "metrics", "readyz", "simulator", "status", "ussd"}

// proxies reads TrustedProxies.
func (c HotlineConfig) proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("hotline.trusted_proxies: %q is not a network such as 10.0.0.5/32", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// secureCookies tells whether the console's cookies are Secure: always,
// but in the demo served on loopback (a newcomer's browser on
// http://127.0.0.1) or when configuration says a proxy speaks plain HTTP
// to the browser.
func secureCookies(cfg Config) bool {
	if cfg.Hotline.InsecureCookies {
		return false
	}
	return !cfg.demo() || !loopback(cfg.HTTP)
}

// loopback reports whether a listen address is on the loopback interface.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// HTTPTimeouts bound how long the HTTP server waits on a client: a
// request's headers (ReadHeader, 5 s: a client that dribbles them, a
// slowloris, is cut), the whole request (Read, 10 s), its answer (Write,
// 15 s). An upload, a campaign's audience (POST /api/v1/campaigns, up to
// 4 MiB, and the console's campaign form, up to 8 MiB), may take longer
// once its sender is signed in or holds a key: as long as its body keeps
// coming at UploadRate bytes a second on average (8 KiB/s, a poor 2G EDGE
// link) beyond Read's grace, and for Upload at most (20 min: 8 MiB at
// that rate). A client holding an upload open must keep sending.
type HTTPTimeouts struct {
	ReadHeader time.Duration `yaml:"read_header"`
	Read       time.Duration `yaml:"read"`
	Write      time.Duration `yaml:"write"`
	UploadRate int           `yaml:"upload_rate"`
	Upload     time.Duration `yaml:"upload"`
}

// APIConfig configures the ministries' API.
type APIConfig struct {
	// CallbackAllow lists networks (CIDR) a delivery callback may go to
	// besides public addresses: a ministry's private network, tests.
	CallbackAllow []string `yaml:"callback_allow"`
	// CallbackCA is a PEM file of the certificate authorities a callback
	// receiver's certificate may come from, instead of the system's.
	CallbackCA string `yaml:"callback_ca"`
}

// allow reads CallbackAllow.
func (c APIConfig) allow() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.CallbackAllow {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("api.callback_allow: %q is not a network such as 10.20.0.0/16", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// roots reads CallbackCA: nil for the system's.
func (c APIConfig) roots() (*x509.CertPool, error) {
	if c.CallbackCA == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(c.CallbackCA)
	if err != nil {
		return nil, fmt.Errorf("api.callback_ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("api.callback_ca: %s holds no PEM certificate", c.CallbackCA)
	}
	return pool, nil
}

// SMPPConfig declares the operators' SMSCs. Without operators, serve runs
// an SMSC simulator in-process and binds to it (the embedded default).
type SMPPConfig struct {
	Operators []SMSCConfig `yaml:"operators"`
	Routes    []smpp.Route `yaml:"routes"`  // by number prefix; default: Cameroon's operators
	Default   string       `yaml:"default"` // the operator of numbers no prefix takes ("": none)
	// Lease is how long a gateway's claim on a message holds: a gateway
	// killed while sending leaves its claimed messages to the others once
	// it ends (default 2 min).
	Lease time.Duration `yaml:"lease"`
	// Policy says what the outbox does when an SMSC answers a submit_sm
	// with an error status, overriding what SMPP 3.4 says of it: status
	// (its name, ESME_RSYSERR, or its number, 0x08) to retry (later, with
	// backoff), throttle (slow the bind down, retry soon) or fail (give
	// the message up).
	Policy map[string]string `yaml:"policy"`
}

// policy reads SMPPConfig.Policy: each status's number and action.
func (c SMPPConfig) policy() (map[uint32]string, error) {
	out := map[uint32]string{}
	var errs []string
	for key, action := range c.Policy {
		status, ok := statusNumber(key)
		switch {
		case !ok:
			errs = append(errs, fmt.Sprintf("smpp.policy: %q is no SMPP status (a name such as ESME_RSYSERR, or a number such as 0x08)", key))
		case action != delivery.Retry && action != delivery.Throttle && action != delivery.GiveUp:
			errs = append(errs, fmt.Sprintf("smpp.policy: %s: %q is no action (%s, %s or %s)", key, action, delivery.Retry, delivery.Throttle, delivery.GiveUp))
		case status == smpp.StatusOK:
			errs = append(errs, fmt.Sprintf("smpp.policy: %s is success, not an error", key))
		default:
			out[status] = action
		}
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		return nil, errors.New(strings.Join(errs, "; "))
	}
	return out, nil
}

// statusNumber reads an SMPP command_status by name or number.
func statusNumber(key string) (uint32, bool) {
	if n, err := strconv.ParseUint(key, 0, 32); err == nil {
		return uint32(n), true
	}
	for s := range uint32(0x500) {
		if smpp.StatusName(s) == strings.ToUpper(key) {
			return s, true
		}
	}
	return 0, false
}

// SMSCConfig is one operator's SMSC and binds.
type SMSCConfig struct {
	Name        string `yaml:"name"`
	Addr        string `yaml:"addr"` // host:port
	SystemID    string `yaml:"system_id"`
	Password    string `yaml:"password" secret:"true"`
	PasswordEnv string `yaml:"password_env"` // or the variable that holds it
	// PasswordFile is a file that holds it.
	PasswordFile string `yaml:"password_file"`
	SystemType   string `yaml:"system_type"`
	Binds        int    `yaml:"binds"` // transceivers (1), or transmitters when Receivers > 0
	// Receivers, when set, binds a transmitter + receiver pair: Binds
	// transmitters carry submit_sm, this many receivers take receipts,
	// SMS and USSD.
	Receivers int     `yaml:"receivers"`
	Window    int     `yaml:"window"` // requests outstanding per bind (10)
	Rate      float64 `yaml:"rate"`   // messages per second to this operator (0: the window decides)
	Source    string  `yaml:"source"` // the sender: a short code or a name
	// Transliterate spells this operator's SMS in GSM-7 (ê → e), 160 a part.
	Transliterate bool          `yaml:"transliterate"`
	EnquireLink   time.Duration `yaml:"enquire_link"` // keep-alive (30s)
	USSD          *smpp.USSDOps `yaml:"ussd"`         // this SMSC also carries USSD, with these op codes
}

// EngineConfig tunes the session engine.
type EngineConfig struct {
	Budget       time.Duration `yaml:"budget"`
	ResumeWindow time.Duration `yaml:"resume_window"`
	RetryWindow  time.Duration `yaml:"retry_window"`
	IdleTimeout  time.Duration `yaml:"idle_timeout"`
	MaxInFlight  int           `yaml:"max_in_flight"`
	ScreenLimit  int           `yaml:"screen_limit"`
}

// SMSDialogueConfig tunes the SMS dialogue: the menus walked one SMS a
// screen.
type SMSDialogueConfig struct {
	// Idle is how long a dialogue waits for the citizen's next SMS
	// (10 min); within as long again MENU offers to continue it. Longer
	// than engine.idle_timeout: an SMS takes longer to answer than a
	// USSD screen.
	Idle time.Duration `yaml:"idle"`
}

// OperatorConfig declares one operator's USSD gateway.
type OperatorConfig struct {
	Name          string `yaml:"name"`
	Dialect       string `yaml:"dialect"`
	Path          string `yaml:"path"`                     // default /ussd/NAME
	Credential    string `yaml:"credential" secret:"true"` // shared secret the operator sends
	CredentialEnv string `yaml:"credential_env"`           // or the variable that holds it
	// CredentialFile is a file that holds it.
	CredentialFile string `yaml:"credential_file"`
	// ClientCAFile is a PEM bundle of the CAs whose client certificates
	// prove this operator (mutual TLS; needs tls:): instead of a
	// credential, or with it when both are set.
	ClientCAFile string `yaml:"client_ca_file"`
	// ClientSubject, if set, must be the client certificate's common name
	// or one of its DNS names ("*.mtn.cm": any one label before mtn.cm).
	ClientSubject string `yaml:"client_subject"`
	// Allow, if set, are the only networks (CIDR) the operator's requests
	// may come from; others get 403.
	Allow       []string `yaml:"allow"`
	ScreenLimit int      `yaml:"screen_limit"` // default engine.screen_limit
	Region      string   `yaml:"region"`       // numbers without a country code (CM)
	Account     string   `yaml:"account"`      // the account id some dialects echo (Nalo, Arkesel USERID)
	Open        bool     `yaml:"-"`            // no credential: the demo's operator, mounted only in a demo
}

func defaultConfig() Config {
	return Config{
		HTTP:        "127.0.0.1:8080",
		RedisPrefix: sessionPrefix,
		LogLevel:    slog.LevelInfo,
		Engine: EngineConfig{Budget: 2 * time.Second, ResumeWindow: 120 * time.Second, RetryWindow: 3 * time.Second,
			IdleTimeout: 60 * time.Second, MaxInFlight: 2000, ScreenLimit: menus.DefaultLimit},
		Timeouts: HTTPTimeouts{ReadHeader: 5 * time.Second, Read: 10 * time.Second, Write: 15 * time.Second,
			UploadRate: 8 << 10, Upload: 20 * time.Minute},
		Hotline:       HotlineConfig{IdleTimeout: hotline.IdleFor, OneTimeFor: staff.OneTimeFor},
		SMSDialogue:   SMSDialogueConfig{Idle: inbox.DialogueIdle},
		Web:           WebConfig{Path: "/m/", IdleTimeout: web.IdleFor},
		ShutdownGrace: defaultShutdownGrace,
	}
}

// defaultShutdownGrace is ShutdownGrace's default.
var defaultShutdownGrace = 5 * time.Second

// demoOperator is the one operator of the demo: Africa's Talking's
// dialect, no credential (mounted only in a demo: Config.Demo).
var demoOperator = OperatorConfig{Name: "demo", Dialect: "africastalking", Path: "/ussd/demo", Region: "CM", Open: true}

// loadConfig reads the configuration for serve.
func loadConfig(args []string, getenv func(string) string) (Config, error) {
	return parseConfig(args, getenv, io.Discard)
}

const serveUsage = `usage: guichet serve [--config FILE] [--http ADDR] [--redis URL] [--database URL] [--migrate] [--seed] [--demo] [--menus DIR]

Run the gateway: in-memory stores unless a configuration, $REDIS_URL or
$DATABASE_URL says otherwise. Flags override the file and the environment.`

// parseConfig is loadConfig printing serve's usage to stdout on --help.
func parseConfig(args []string, getenv func(string) string, stdout io.Writer) (Config, error) {
	cfg := defaultConfig()
	fs := newFlags("serve", serveUsage, stdout)
	file := fs.String("config", "", "YAML configuration `file`")
	httpAddr := fs.String("http", "", "listen `address` (default 127.0.0.1:8080)")
	redisURL := fs.String("redis", "", "Redis `URL` for sessions (default: $REDIS_URL, else in memory)")
	menuDir := fs.String("menus", "", "menu `folder` (default: the built-in catalogue)")
	dbURL := fs.String("database", "", "PostgreSQL `URL` for cases (default: $DATABASE_URL, else in memory)")
	migrate := fs.Bool("migrate", false, "apply the database schema at start-up")
	seed := fs.Bool("seed", false, "add the demo offices and cases to the database")
	demo := fs.Bool("demo", false, "run as a demonstration: the demo operator without credential and an SMSC simulator (see demo: in the configuration)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if *file != "" {
		b, err := os.ReadFile(*file)
		if err != nil {
			return cfg, fmt.Errorf("reading configuration: %w", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) { // EOF: nothing but comments
			return cfg, fmt.Errorf("reading configuration %s: %w", *file, err)
		}
	}
	// The file's URLs, then the environment's (REDIS_URL, or the
	// content of REDIS_URL_FILE: fileEnv), then the flags'. A *_file is
	// read only when neither replaces it: a missing file that the
	// environment or a flag overrides does not stop the gateway.
	if v := getenv("REDIS_URL"); v != "" || *redisURL != "" {
		cfg.RedisURLFile = ""
	}
	if v := getenv("DATABASE_URL"); v != "" || *dbURL != "" {
		cfg.DatabaseURLFile = ""
	}
	errs := cfg.readURLFiles()
	if v := getenv("REDIS_URL"); v != "" {
		cfg.RedisURL, cfg.RedisURLFile = v, ""
	}
	if v := getenv("DATABASE_URL"); v != "" {
		cfg.DatabaseURL, cfg.DatabaseURLFile = v, ""
	}
	cfg.Migrate = cfg.Migrate || *migrate
	cfg.Seed = cfg.Seed || *seed
	for _, f := range []struct {
		flag string
		dst  *string
		file *string
	}{{*httpAddr, &cfg.HTTP, nil}, {*redisURL, &cfg.RedisURL, &cfg.RedisURLFile}, {*menuDir, &cfg.Menus, nil}, {*dbURL, &cfg.DatabaseURL, &cfg.DatabaseURLFile}} {
		if f.flag != "" {
			*f.dst = f.flag
			if f.file != nil {
				*f.file = ""
			}
		}
	}
	if *demo {
		cfg.Demo = demo
	}
	if cfg.demo() && len(cfg.Operators) == 0 {
		cfg.Operators = []OperatorConfig{demoOperator}
	}
	for i := range cfg.Operators {
		op := &cfg.Operators[i]
		if op.Path == "" {
			op.Path = "/ussd/" + op.Name
		}
		if op.Region == "" {
			op.Region = "CM"
		}
	}
	if errs = append(errs, cfg.resolveSecrets(getenv)...); len(errs) > 0 {
		return cfg, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return cfg, cfg.validate()
}

// demo tells whether the gateway runs as a demonstration (see Demo): as
// configured, else only on the embedded default, where nothing but the
// demo's own operator is configured.
func (c Config) demo() bool {
	if c.Demo != nil {
		return *c.Demo
	}
	if c.DatabaseURL != "" || len(c.SMPP.Operators) > 0 {
		return false
	}
	for _, op := range c.Operators {
		if !op.Open {
			return false
		}
	}
	return true
}

// checkDemo refuses a demonstration on a database, unless forced: its
// operator and simulator would let anyone act as any citizen in it.
func (c Config) checkDemo() error {
	if c.demo() && c.DatabaseURL != "" && !c.DemoForce {
		return errors.New("demo with a database: the demo operator and the SMSC simulator let anyone who reaches the gateway act as any phone number and read every SMS sent; " +
			"remove demo (configure operators: and smpp:), or set demo_force: true for a database of test data")
	}
	return nil
}

func (c Config) validate() error {
	var errs []string
	seen := map[string]bool{}
	for _, op := range c.Operators {
		switch {
		case op.Name == "":
			errs = append(errs, "an operator has no name")
		case seen[op.Path]:
			errs = append(errs, fmt.Sprintf("operator %s: path %s is taken", op.Name, op.Path))
		case dialects[op.Dialect] == nil:
			errs = append(errs, fmt.Sprintf("operator %s: unknown dialect %q (known: %s)", op.Name, op.Dialect, strings.Join(dialectNames(), ", ")))
		case op.Credential == "" && op.CredentialEnv != "" && op.ClientCAFile == "":
			errs = append(errs, fmt.Sprintf("operator %s: credential_env %s is not set (or empty) in the environment", op.Name, op.CredentialEnv))
		case op.Credential == "" && op.ClientCAFile == "" && !(op.Open && c.demo()):
			errs = append(errs, fmt.Sprintf("operator %s: needs a credential (credential, credential_env or credential_file), a client_ca_file, or both", op.Name))
		case !strings.HasPrefix(op.Path, "/"):
			errs = append(errs, fmt.Sprintf("operator %s: path must start with /", op.Name))
		}
		if op.ClientCAFile != "" && op.CredentialEnv != "" && op.Credential == "" {
			// Both were asked for: the certificate alone would be taken.
			errs = append(errs, fmt.Sprintf("operator %s: credential_env %s is empty", op.Name, op.CredentialEnv))
		}
		if op.ScreenLimit != 0 && (op.ScreenLimit < 60 || op.ScreenLimit > 182) {
			errs = append(errs, fmt.Sprintf("operator %s: screen_limit %d is outside 60…182", op.Name, op.ScreenLimit))
		}
		seen[op.Path] = true
	}
	if c.RedisURL != "" {
		if _, err := parseRedisURL(c.RedisURL); err != nil {
			errs = append(errs, err.Error()) // its passwords masked
		}
	}
	if c.LogFormat != "" && c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Sprintf("log_format %q: text or json", c.LogFormat))
	}
	for _, o := range c.SMPP.Operators {
		if o.PasswordEnv != "" && o.Password == "" {
			errs = append(errs, fmt.Sprintf("smpp operator %s: password_env %s is not set (or empty) in the environment", o.Name, o.PasswordEnv))
		}
	}
	errs = append(errs, c.checkLinks()...)
	if err := c.checkDemo(); err != nil {
		errs = append(errs, err.Error())
	}
	for name, v := range map[string]int{"cases_per_hour": c.Limits.CasesPerHour, "bookings_per_hour": c.Limits.BookingsPerHour, "callbacks_per_hour": c.Limits.CallbacksPerHour} {
		if v < -1 {
			errs = append(errs, fmt.Sprintf("limits.%s: %d is neither a limit nor -1 (none)", name, v))
		}
	}
	if _, err := c.SMPP.policy(); err != nil {
		errs = append(errs, err.Error())
	}
	if _, err := c.API.allow(); err != nil {
		errs = append(errs, err.Error())
	}
	if _, err := c.API.roots(); err != nil {
		errs = append(errs, err.Error())
	}
	if _, err := c.Hotline.proxies(); err != nil {
		errs = append(errs, err.Error())
	}
	if p := c.Web.Path; !c.Web.Disabled && (!strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") || len(p) < 3 ||
		strings.ContainsAny(p, " {}?#*") || slices.Contains(reservedPaths, strings.SplitN(strings.Trim(p, "/"), "/", 2)[0])) {
		errs = append(errs, fmt.Sprintf("web.path %q: a path of its own such as /m/, starting and ending with /", p))
	}
	for _, a := range c.Web.FrameAncestors {
		if u, err := url.Parse(a); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || strings.ContainsAny(a, " ;,'") {
			errs = append(errs, fmt.Sprintf("web.frame_ancestors: %q is not an origin such as https://portal.example", a))
		}
	}
	if c.Web.CodesPerAddress < -1 {
		errs = append(errs, fmt.Sprintf("web.codes_per_address %d: a count, 0 for the default or -1 for no limit", c.Web.CodesPerAddress))
	}
	if c.Web.IdleTimeout < 0 || c.Web.IdleTimeout > 12*time.Hour {
		errs = append(errs, fmt.Sprintf("web.idle_timeout %v is outside 0…12h", c.Web.IdleTimeout))
	}
	if c.Hotline.IdleTimeout < 0 || c.Hotline.IdleTimeout > 12*time.Hour {
		errs = append(errs, fmt.Sprintf("hotline.idle_timeout %v is outside 0…12h", c.Hotline.IdleTimeout))
	}
	if c.Hotline.OneTimeFor < 0 {
		errs = append(errs, fmt.Sprintf("hotline.one_time_for %v is negative", c.Hotline.OneTimeFor))
	}
	if _, err := c.Retention.policy(); err != nil {
		errs = append(errs, err.Error())
	}
	if d := c.SMSDialogue.Idle; d <= c.Engine.IdleTimeout || d > 24*time.Hour {
		errs = append(errs, fmt.Sprintf("sms_dialogue.idle %v: longer than engine.idle_timeout (%v), 24h at most", d, c.Engine.IdleTimeout))
	}
	if c.Engine.ScreenLimit < 60 || c.Engine.ScreenLimit > 182 {
		errs = append(errs, fmt.Sprintf("engine.screen_limit %d is outside 60…182", c.Engine.ScreenLimit))
	}
	if t := c.Timeouts; t.ReadHeader <= 0 || t.Read < t.ReadHeader || t.Write <= 0 || t.UploadRate <= 0 || t.Upload < t.Read {
		errs = append(errs, fmt.Sprintf("http_timeouts: %+v; each positive, read at least read_header, upload at least read", t))
	}
	if c.AdminHTTP != "" {
		if _, _, err := net.SplitHostPort(c.AdminHTTP); err != nil {
			errs = append(errs, fmt.Sprintf("admin_http %q is not an address such as 10.0.0.5:9090", c.AdminHTTP))
		} else if c.AdminHTTP == c.HTTP {
			errs = append(errs, fmt.Sprintf("admin_http %s is http's address too", c.AdminHTTP))
		}
	}
	if c.ShutdownGrace < 0 {
		errs = append(errs, fmt.Sprintf("shutdown_grace %v is negative", c.ShutdownGrace))
	}
	if len(errs) > 0 {
		return fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return nil
}
