// Package config reads agentdeck's configuration from the environment and the
// command line into one validated Config. Flags override the environment.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Commands the binary understands; serve is the default.
const (
	CommandServe   = "serve"
	CommandMigrate = "migrate"
	CommandRun     = "run"
	CommandToken   = "token"
	CommandVersion = "version"
	CommandHook    = "hook"
	CommandConnect = "connect"
	CommandRollups = "rollups"
	CommandUsers   = "users"
)

// Provider holds the OAuth client of one sign-in provider.
type Provider struct {
	ClientID     string
	ClientSecret string
	Issuer       string // OpenID Connect only
}

// Enabled reports whether the provider's variables are set.
func (p Provider) Enabled() bool { return p.ClientID != "" && p.ClientSecret != "" }

// DefaultAPIRateLimit lets one token report several busy runs at once.
const DefaultAPIRateLimit = 200

// Config is everything a command needs to know about its environment.
type Config struct {
	Command string   // serve, migrate, run, token or version
	Args    []string // the command's own arguments, after its name

	Addr        string // AGENTDECK_ADDR, --addr
	DatabaseURL string // DATABASE_URL; empty means the embedded SQLite file
	DataDir     string // AGENTDECK_DATA_DIR
	BaseURL     string // AGENTDECK_BASE_URL
	SessionKeys []string
	// TrustedProxies (AGENTDECK_TRUSTED_PROXIES) are the reverse proxies
	// whose X-Forwarded-For header names the client; with none, the client
	// is the connection's peer.
	TrustedProxies []*net.IPNet
	Demo           bool // AGENTDECK_DEMO=1, --demo
	// DemoOnPublicAddress lets demo sign-in run on a non-loopback address,
	// where anyone who reaches the port could sign in as anyone.
	DemoOnPublicAddress bool

	GitHub, Google, GitLab, OIDC Provider

	// APIRateLimit is how many API requests per second one access token
	// may make (AGENTDECK_API_RATE_LIMIT); bursts of twice that pass. All
	// of one user's tokens together may make twice as many.
	APIRateLimit float64
	// MaxTokensPerUser (AGENTDECK_MAX_TOKENS_PER_USER) bounds the access
	// tokens, neither revoked nor expired, one user may hold; 0 keeps the
	// default (app.DefaultMaxTokensPerUser, 50).
	MaxTokensPerUser int
	// OpenURLSchemes (AGENTDECK_OPEN_URL_SCHEMES, comma-separated) replace
	// the schemes an item's open_url may use; empty keeps the default
	// (app.DefaultOpenURLSchemes).
	OpenURLSchemes []string
	// ConnsPerAddress (AGENTDECK_MAX_CONNS_PER_ADDRESS) bounds the
	// connections one client address may hold open at once, and
	// BodyTimeout (AGENTDECK_BODY_TIMEOUT) how long a request may take to
	// send its body; 0 keeps the defaults (256 and 30s).
	ConnsPerAddress int
	BodyTimeout     time.Duration

	// The CLI's server and token (agentdeck run, hook, connect).
	URL   string
	Token string

	// CreditsPerUSD (AGENTDECK_CREDITS_PER_USD, default 100) converts the
	// money agents report into credits; PricesFile (AGENTDECK_PRICES)
	// replaces the embedded price table of models' token prices.
	CreditsPerUSD *big.Rat
	PricesFile    string
	// StaleAfter and AbandonAfter (AGENTDECK_STALE_AFTER, default 30m;
	// AGENTDECK_ABANDON_AFTER, default 24h) close agents' sessions that
	// went silent (§10).
	StaleAfter   time.Duration
	AbandonAfter time.Duration

	// AllowPrivateWebhooks (AGENTDECK_ALLOW_PRIVATE_WEBHOOKS=1) lets alerts
	// call private, loopback and link-local addresses, for receivers inside
	// one's own network; WebhookCAFile (AGENTDECK_WEBHOOK_CA_FILE) names PEM
	// certificates trusted for alert destinations besides the system's.
	AllowPrivateWebhooks bool
	WebhookCAFile        string

	// Live streams one browser session (AGENTDECK_STREAMS_PER_SESSION), one
	// user (AGENTDECK_STREAMS_PER_USER) and the process
	// (AGENTDECK_MAX_STREAMS) may hold open; 0 keeps the default.
	StreamsPerSession, StreamsPerUser, MaxStreams int
}

// Load reads the environment through getenv, then the command and its flags
// from args (without the program name).
func Load(args []string, getenv func(string) string) (Config, error) {
	c := Config{
		Addr:                or(getenv("AGENTDECK_ADDR"), "127.0.0.1:8080"),
		DatabaseURL:         getenv("DATABASE_URL"),
		DataDir:             or(getenv("AGENTDECK_DATA_DIR"), "data"),
		BaseURL:             strings.TrimRight(getenv("AGENTDECK_BASE_URL"), "/"),
		Demo:                truthy(getenv("AGENTDECK_DEMO")),
		DemoOnPublicAddress: truthy(getenv("AGENTDECK_DEMO_ON_PUBLIC_ADDRESS_I_UNDERSTAND_ANYONE_CAN_SIGN_IN")),
		GitHub:              Provider{ClientID: getenv("GITHUB_CLIENT_ID"), ClientSecret: getenv("GITHUB_CLIENT_SECRET")},
		Google:              Provider{ClientID: getenv("GOOGLE_CLIENT_ID"), ClientSecret: getenv("GOOGLE_CLIENT_SECRET")},
		GitLab:              Provider{ClientID: getenv("GITLAB_CLIENT_ID"), ClientSecret: getenv("GITLAB_CLIENT_SECRET")},
		OIDC:                Provider{ClientID: getenv("OIDC_CLIENT_ID"), ClientSecret: getenv("OIDC_CLIENT_SECRET"), Issuer: getenv("OIDC_ISSUER")},
		URL:                 strings.TrimRight(getenv("AGENTDECK_URL"), "/"),
		Token:               getenv("AGENTDECK_TOKEN"),
	}
	c.CreditsPerUSD = big.NewRat(100, 1)
	if v := getenv("AGENTDECK_CREDITS_PER_USD"); v != "" {
		r, ok := new(big.Rat).SetString(v)
		if !ok || r.Sign() <= 0 || strings.ContainsAny(v, "eE/") {
			return c, fmt.Errorf("AGENTDECK_CREDITS_PER_USD %q must be a positive decimal number", v)
		}
		c.CreditsPerUSD = r
	}
	c.PricesFile = getenv("AGENTDECK_PRICES")
	c.AllowPrivateWebhooks = truthy(getenv("AGENTDECK_ALLOW_PRIVATE_WEBHOOKS"))
	c.WebhookCAFile = getenv("AGENTDECK_WEBHOOK_CA_FILE")
	c.StaleAfter, c.AbandonAfter = 30*time.Minute, 24*time.Hour
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"AGENTDECK_STALE_AFTER", &c.StaleAfter}, {"AGENTDECK_ABANDON_AFTER", &c.AbandonAfter}, {"AGENTDECK_BODY_TIMEOUT", &c.BodyTimeout}} {
		if v := getenv(d.name); v != "" {
			n, err := time.ParseDuration(v)
			if err != nil || n <= 0 {
				return c, fmt.Errorf("%s %q must be a positive duration such as 30m or 24h", d.name, v)
			}
			*d.dst = n
		}
	}
	for _, n := range []struct {
		name string
		dst  *int
	}{{"AGENTDECK_STREAMS_PER_SESSION", &c.StreamsPerSession}, {"AGENTDECK_STREAMS_PER_USER", &c.StreamsPerUser}, {"AGENTDECK_MAX_STREAMS", &c.MaxStreams},
		{"AGENTDECK_MAX_TOKENS_PER_USER", &c.MaxTokensPerUser}, {"AGENTDECK_MAX_CONNS_PER_ADDRESS", &c.ConnsPerAddress}} {
		if v := getenv(n.name); v != "" {
			i, err := strconv.Atoi(v)
			if err != nil || i < 1 {
				return c, fmt.Errorf("%s %q must be a positive whole number", n.name, v)
			}
			*n.dst = i
		}
	}
	for _, sc := range strings.Split(getenv("AGENTDECK_OPEN_URL_SCHEMES"), ",") {
		if sc = strings.ToLower(strings.TrimSpace(sc)); sc != "" {
			c.OpenURLSchemes = append(c.OpenURLSchemes, sc)
		}
	}
	c.APIRateLimit = DefaultAPIRateLimit
	if v := getenv("AGENTDECK_API_RATE_LIMIT"); v != "" {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || n <= 0 || math.IsInf(n, 0) {
			return c, fmt.Errorf("AGENTDECK_API_RATE_LIMIT %q must be a positive number of requests per second", v)
		}
		c.APIRateLimit = n
	}
	for _, k := range strings.Split(getenv("AGENTDECK_SESSION_KEYS"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			c.SessionKeys = append(c.SessionKeys, k)
		}
	}
	for _, p := range strings.Split(getenv("AGENTDECK_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			if ip := net.ParseIP(p); ip != nil && ip.To4() != nil {
				p += "/32"
			} else {
				p += "/128"
			}
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			return c, fmt.Errorf("AGENTDECK_TRUSTED_PROXIES: %q is not an IP address or CIDR range", p)
		}
		c.TrustedProxies = append(c.TrustedProxies, n)
	}

	c.Command = CommandServe
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		c.Command, args = args[0], args[1:]
	}
	switch c.Command {
	case CommandServe:
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.StringVar(&c.Addr, "addr", c.Addr, "address to listen on (HOST:PORT)")
		fs.BoolVar(&c.Demo, "demo", c.Demo, "recreate and seed the demo database and allow demo sign-in")
		if err := fs.Parse(args); err != nil {
			return c, fmt.Errorf("serve: %w (usage: agentdeck serve [--addr HOST:PORT] [--demo])", err)
		}
		if fs.NArg() > 0 {
			return c, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
		}
	case CommandMigrate, CommandVersion, CommandRun, CommandToken, CommandHook, CommandConnect, CommandRollups, CommandUsers:
		c.Args = args
	default:
		return c, fmt.Errorf("unknown command %q (commands: serve, migrate, run, hook, connect, token, rollups, users, version)", c.Command)
	}
	return c, c.validate()
}

func (c Config) validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("AGENTDECK_ADDR/--addr %q is not HOST:PORT: %w", c.Addr, err)
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("AGENTDECK_BASE_URL %q must be an absolute http(s) URL", c.BaseURL)
		}
	}
	if c.OIDC.Enabled() && c.OIDC.Issuer == "" {
		return errors.New("OIDC_ISSUER is required with OIDC_CLIENT_ID and OIDC_CLIENT_SECRET")
	}
	if c.Command == CommandServe && c.Demo && !c.DemoOnPublicAddress && !LoopbackAddr(c.Addr) {
		return fmt.Errorf("demo mode lets anyone sign in as anyone, so it only listens on a loopback address, not %q", c.Addr)
	}
	return nil
}

// LoopbackAddr reports whether HOST:PORT names only this machine.
func LoopbackAddr(addr string) bool {
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

// DSN is the database to open: DATABASE_URL, else the embedded SQLite file in
// the data dir (demo.db in demo mode).
func (c Config) DSN() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return c.SQLitePath()
}

// SQLitePath is the embedded database file.
func (c Config) SQLitePath() string {
	if c.Demo {
		return filepath.Join(c.DataDir, "demo.db")
	}
	return filepath.Join(c.DataDir, "agentdeck.db")
}

// PublicURL is the base URL links and OAuth callbacks use; without
// AGENTDECK_BASE_URL it is derived from the listen address.
func (c Config) PublicURL() string {
	if c.BaseURL != "" {
		return c.BaseURL
	}
	host, port, _ := net.SplitHostPort(c.Addr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Secure reports whether cookies must be marked Secure: the app is served
// over TLS.
func (c Config) Secure() bool { return strings.HasPrefix(c.PublicURL(), "https://") }

// LoadSessionKeys returns the session keys, newest first. Without
// AGENTDECK_SESSION_KEYS a key is generated once and kept in the data dir so
// that sessions survive restarts.
func (c Config) LoadSessionKeys() ([][]byte, error) {
	if len(c.SessionKeys) > 0 {
		keys := make([][]byte, len(c.SessionKeys))
		for i, k := range c.SessionKeys {
			if len(k) < 32 {
				return nil, fmt.Errorf("AGENTDECK_SESSION_KEYS: key %d is shorter than 32 characters", i+1)
			}
			keys[i] = []byte(k)
		}
		return keys, nil
	}
	path := filepath.Join(c.DataDir, "session.key")
	if b, err := os.ReadFile(path); err == nil {
		if k := strings.TrimSpace(string(b)); len(k) >= 32 {
			return [][]byte{[]byte(k)}, nil
		}
		return nil, fmt.Errorf("%s holds no usable key; delete it to generate a new one", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read session key: %w", err)
	}
	var b [32]byte
	rand.Read(b[:])
	k := hex.EncodeToString(b[:])
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if err := os.WriteFile(path, []byte(k+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write session key: %w", err)
	}
	return [][]byte{[]byte(k)}, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}
