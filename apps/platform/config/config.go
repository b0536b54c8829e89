// Package config reads an app's configuration from the environment, with
// defaults, and collects every problem into one error so an app refuses to
// start with a message that names each bad variable at once.
package config

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Reader reads typed values from the environment and remembers what was wrong.
type Reader struct {
	lookup func(string) (string, bool)
	errs   []error
}

// New returns a Reader over the process environment.
func New() *Reader { return &Reader{lookup: os.LookupEnv} }

// FromMap returns a Reader over a fixed map, for tests.
func FromMap(m map[string]string) *Reader {
	return &Reader{lookup: func(k string) (string, bool) { v, ok := m[k]; return v, ok }}
}

// String returns the variable or def when it is unset or empty.
func (r *Reader) String(key, def string) string {
	if v, ok := r.lookup(key); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return def
}

// Required returns the variable and records an error when it is missing.
func (r *Reader) Required(key string) string {
	v := r.String(key, "")
	if v == "" {
		r.errs = append(r.errs, fmt.Errorf("%s is required", key))
	}
	return v
}

// Int returns the variable as an int.
func (r *Reader) Int(key string, def int) int {
	v := r.String(key, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s=%q is not an integer", key, v))
		return def
	}
	return n
}

// Bool returns the variable as a bool.
func (r *Reader) Bool(key string, def bool) bool {
	v := r.String(key, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s=%q is not a boolean", key, v))
		return def
	}
	return b
}

// Duration returns the variable as a time.Duration ("250ms", "10m").
func (r *Reader) Duration(key string, def time.Duration) time.Duration {
	v := r.String(key, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s=%q is not a duration", key, v))
		return def
	}
	return d
}

// Refuse records a problem an app's own check found, so Err reports it
// with the rest.
func (r *Reader) Refuse(err error) { r.errs = append(r.errs, err) }

// Err returns every problem met so far, or nil.
func (r *Reader) Err() error { return errors.Join(r.errs...) }

// Base is the configuration every Harvest app shares (the launcher's env contract).
type Base struct {
	AppID     string // HARVEST_APP_ID: also the Dapr app-id
	HTTPAddr  string // HARVEST_HTTP_ADDR: the sidecar-facing listener (Dapr callbacks, events, actors, the app's API)
	OpsAddr   string // HARVEST_OPS_ADDR: health, metrics and (development only) pprof, for probes and the scraper
	MySQLDSN  string // HARVEST_MYSQL_DSN: the app's own database
	RedisAddr string // HARVEST_REDIS_ADDR
	RedisDB   int    // HARVEST_REDIS_DB: stacks sharing one Redis use different DBs
	PubSub    string // HARVEST_PUBSUB: the Dapr pub/sub component name
	Env       string // HARVEST_ENV: production (the default) or development
	Migrate   bool   // HARVEST_MIGRATE: create the database and apply migrations at start
	// ShutdownTimeout bounds the drain on stop (HARVEST_SHUTDOWN_TIMEOUT).
	ShutdownTimeout time.Duration
	// InboxRetention is how long inbox claims are kept (HARVEST_INBOX_RETENTION;
	// 0, the default, is inbox.DefaultRetention; inbox.Pruner refuses less
	// than inbox.MinRetention).
	InboxRetention time.Duration
	// AppToken (APP_API_TOKEN) is what the sidecar sends in dapr-api-token
	// on every call to HTTPAddr; DaprToken (DAPR_API_TOKEN) is what this
	// app sends its sidecar. Secrets: never logged (see tokens.go).
	AppToken  string
	DaprToken string
}

// ReadBase reads the shared part of an app's configuration.
func ReadBase(r *Reader, appID string, needsDB bool) Base {
	b := Base{
		AppID:           r.String("HARVEST_APP_ID", appID),
		HTTPAddr:        r.String("HARVEST_HTTP_ADDR", "127.0.0.1:3000"),
		OpsAddr:         r.String("HARVEST_OPS_ADDR", "127.0.0.1:9090"),
		RedisAddr:       r.String("HARVEST_REDIS_ADDR", "127.0.0.1:6379"),
		RedisDB:         r.Int("HARVEST_REDIS_DB", 0),
		PubSub:          r.String("HARVEST_PUBSUB", "pubsub"),
		Env:             r.Env(),
		Migrate:         r.Bool("HARVEST_MIGRATE", true),
		ShutdownTimeout: r.Duration("HARVEST_SHUTDOWN_TIMEOUT", 15*time.Second),
		InboxRetention:  r.Duration("HARVEST_INBOX_RETENTION", 0),
	}
	b.AppToken, b.DaprToken = r.tokens(b.Env)
	if needsDB {
		if b.Development() {
			b.MySQLDSN = r.String("HARVEST_MYSQL_DSN", "root@tcp(127.0.0.1:3306)/harvest_"+appID+"?parseTime=true&loc=UTC")
		} else { // no passwordless root on localhost outside development
			b.MySQLDSN = r.Required("HARVEST_MYSQL_DSN")
		}
	}
	return b
}

// The two modes an app runs in. Production is the default: an app started
// without HARVEST_ENV must not serve the playground, pprof or seed data, nor
// accept development secrets; development is asked for explicitly (the
// launcher in deploy/local sets it for the developer and test stacks).
const (
	Production  = "production"
	Development = "development"
)

// Env reads HARVEST_ENV: Production when unset, and an error naming the
// variable for anything but Production or Development, so a typo
// ("prod", "dev") cannot silently pick a mode.
func (r *Reader) Env() string {
	switch v := r.String("HARVEST_ENV", Production); v {
	case Production, Development:
		return v
	default:
		r.errs = append(r.errs, fmt.Errorf("HARVEST_ENV=%q is neither %q nor %q", v, Production, Development))
		return Production
	}
}

// Development reports whether the app runs in development mode.
func (b Base) Development() bool { return b.Env == Development }

// Seed reads HARVEST_SEED, whether the app fills an empty database with
// demonstration data: off unless asked for, and refused outside
// development, so a production database never gets funded customers or a
// made-up catalog.
func (r *Reader) Seed(b Base) bool {
	on := r.Bool("HARVEST_SEED", false)
	if on && !b.Development() {
		r.errs = append(r.errs, fmt.Errorf("HARVEST_SEED=true is refused with HARVEST_ENV=%s (seed data is for development only)", b.Env))
		return false
	}
	return on
}

// MaskDSN hides the password in a MySQL DSN for logging.
func MaskDSN(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	if at < 0 {
		return dsn
	}
	cred := dsn[:at]
	if i := strings.Index(cred, ":"); i >= 0 {
		return cred[:i] + ":***" + dsn[at:]
	}
	return dsn
}
