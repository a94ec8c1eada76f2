// Package sqlstore implements store.Store over database/sql for SQLite
// (modernc.org/sqlite, pure Go) and PostgreSQL (pgx). SQLite serves a single
// server with a file and no setup; PostgreSQL serves any number of replicas
// sharing one database. Both run the same SQL: times are BIGINT unix
// milliseconds in UTC, and what really differs lives in a small dialect.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers driver "sqlite"

	"github.com/twostep/twostep/store"
)

// DefaultSQLitePath is the file used when DATABASE_URL is empty.
const DefaultSQLitePath = "twostep.db"

// Options tunes the connection pool. Zero fields take the defaults noted;
// values set in DATABASE_URL (connect_timeout, statement_timeout) win over
// the defaults but not over fields set here.
type Options struct {
	// MaxOpenConns bounds connections: PostgreSQL default 20; for SQLite it
	// bounds readers only (default 4), as writes go through one connection.
	MaxOpenConns int
	// MaxIdleConns defaults to half of MaxOpenConns.
	MaxIdleConns int
	// ConnMaxLifetime (default 30m) and ConnMaxIdleTime (default 5m) recycle
	// PostgreSQL connections, so replicas spread out again after a failover.
	ConnMaxLifetime time.Duration
	ConnMaxIdleTime time.Duration
	// ConnectTimeout bounds dialling PostgreSQL (default 5s), so a request
	// fails fast with store.ErrUnavailable while the server is down.
	ConnectTimeout time.Duration
	// StatementTimeout bounds one statement (default 5s): PostgreSQL's
	// statement_timeout, and SQLite's busy_timeout for waiting on a lock.
	StatementTimeout time.Duration
	// Logger receives migration and startup events; nil discards them.
	Logger *slog.Logger
}

func (o Options) withDefaults(maxOpen int) Options {
	if o.MaxOpenConns <= 0 {
		o.MaxOpenConns = maxOpen
	}
	if o.MaxIdleConns <= 0 {
		o.MaxIdleConns = max(1, o.MaxOpenConns/2)
	}
	if o.ConnMaxLifetime <= 0 {
		o.ConnMaxLifetime = 30 * time.Minute
	}
	if o.ConnMaxIdleTime <= 0 {
		o.ConnMaxIdleTime = 5 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

const (
	defaultConnectTimeout   = 5 * time.Second
	defaultStatementTimeout = 5 * time.Second
)

// DB is a store.Store backed by SQLite or PostgreSQL.
type DB struct {
	// w takes every write. For SQLite it holds one connection, so writers
	// queue in Go instead of failing with SQLITE_BUSY; r is a pool of
	// read-only connections, which WAL lets run beside the writer. For
	// PostgreSQL both are the same pool.
	w, r    *sql.DB
	stmts   stmts
	dialect dialect
	// callTimeout bounds every call, on top of the caller's deadline: a
	// connection whose network silently died would otherwise wait for
	// the request's own timeout, and the client would not learn that the
	// database is the problem (ErrUnavailable).
	callTimeout time.Duration
}

// op returns ctx bounded by the store's call timeout.
func (db *DB) op(ctx context.Context) (context.Context, context.CancelFunc) {
	if db.callTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, db.callTimeout)
}

var _ store.Store = (*DB)(nil)

// Open connects to databaseURL, applies pending migrations and returns the
// store. databaseURL is DATABASE_URL:
//
//	""                                  SQLite file twostep.db in the working directory
//	sqlite:PATH, sqlite://PATH, file:PATH  SQLite file PATH
//	postgres://… or postgresql://…      PostgreSQL
//
// Errors name DATABASE_URL and never include its password. If the database
// cannot be reached, the error wraps store.ErrUnavailable.
func Open(ctx context.Context, databaseURL string, opts Options) (*DB, error) {
	if strings.HasPrefix(databaseURL, "postgres://") || strings.HasPrefix(databaseURL, "postgresql://") {
		return openPostgres(ctx, databaseURL, opts.withDefaults(20))
	}
	path, query, err := sqlitePath(databaseURL)
	if err != nil {
		return nil, err
	}
	return openSQLite(ctx, path, query, opts.withDefaults(4))
}

// sqlitePath returns the file named by a SQLite DATABASE_URL and any query
// parameters, which are passed on to the driver.
func sqlitePath(databaseURL string) (path, query string, err error) {
	if databaseURL == "" {
		return DefaultSQLitePath, "", nil
	}
	rest, ok := "", false
	for _, prefix := range []string{"sqlite://", "sqlite:", "file://", "file:"} {
		if rest, ok = strings.CutPrefix(databaseURL, prefix); ok {
			break
		}
	}
	if !ok {
		// Name only the scheme: the rest may hold a password.
		scheme, _, found := strings.Cut(databaseURL, ":")
		if !found || strings.ContainsAny(scheme, "/@") {
			return "", "", errors.New("sqlstore: DATABASE_URL has no scheme: want sqlite:PATH or postgres://…")
		}
		return "", "", fmt.Errorf("sqlstore: DATABASE_URL scheme %q not supported: want sqlite:PATH or postgres://…", scheme)
	}
	path, query, _ = strings.Cut(rest, "?")
	switch {
	case path == "":
		return "", "", errors.New("sqlstore: DATABASE_URL: empty SQLite path")
	case path == ":memory:":
		// Every connection would get its own empty database.
		return "", "", errors.New("sqlstore: DATABASE_URL: in-memory SQLite is not supported, use a file")
	}
	return path, query, nil
}

func openSQLite(ctx context.Context, path, query string, opts Options) (*DB, error) {
	timeout := opts.StatementTimeout
	if timeout <= 0 {
		timeout = defaultStatementTimeout
	}
	params := func(extra ...string) string {
		q := url.Values{}
		q.Add("_pragma", "busy_timeout("+strconv.FormatInt(timeout.Milliseconds(), 10)+")")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "synchronous(NORMAL)")
		for i := 0; i < len(extra); i += 2 {
			q.Add(extra[i], extra[i+1])
		}
		dsn := path + "?" + q.Encode()
		if query != "" {
			dsn += "&" + query
		}
		return dsn
	}
	d := sqliteDialect()
	where := "DATABASE_URL sqlite:" + path
	// IMMEDIATE takes the write lock at BEGIN, under busy_timeout, so a
	// second process never fails a transaction half-way with SQLITE_BUSY.
	w, err := sql.Open("sqlite", params("_pragma", "journal_mode(WAL)", "_txlock", "immediate"))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", where, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	if err := migrate(ctx, w, d, opts.Logger); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", where, wrapUnavailable(d, err))
	}
	// Opened after migrating: the file exists and is in WAL mode by now.
	// Each reader keeps a page cache of its own, mostly copies of the
	// same hot pages: 1 MiB each (SQLite's default is 2) bounds the
	// server's memory however large the file; the OS caches it for all.
	r, err := sql.Open("sqlite", params("_pragma", "query_only(1)", "_pragma", "cache_size(-1024)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", where, err)
	}
	r.SetMaxOpenConns(opts.MaxOpenConns)
	r.SetMaxIdleConns(opts.MaxIdleConns)
	// No call timeout: there is no network to go silent, busy_timeout
	// bounds the wait for a lock, and the caller's deadline the wait for
	// the one writer connection.
	db := &DB{w: w, r: r, dialect: d}
	if err := db.prepare(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", where, wrapUnavailable(d, err))
	}
	opts.Logger.InfoContext(ctx, "database opened", "dialect", d.name, "path", path)
	return db, nil
}

func openPostgres(ctx context.Context, databaseURL string, opts Options) (*DB, error) {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		// pgx redacts the password from its parse errors.
		return nil, fmt.Errorf("sqlstore: DATABASE_URL: %w", err)
	}
	switch {
	case opts.ConnectTimeout > 0:
		cfg.ConnectTimeout = opts.ConnectTimeout
	case cfg.ConnectTimeout == 0:
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	if _, set := cfg.RuntimeParams["statement_timeout"]; opts.StatementTimeout > 0 || !set {
		timeout := opts.StatementTimeout
		if timeout <= 0 {
			timeout = defaultStatementTimeout
		}
		cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(timeout.Milliseconds(), 10)
	}
	if _, set := cfg.RuntimeParams["application_name"]; !set {
		cfg.RuntimeParams["application_name"] = "twostep"
	}
	d := postgresDialect()
	where := fmt.Sprintf("DATABASE_URL postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)

	w := stdlib.OpenDB(*cfg)
	w.SetMaxOpenConns(opts.MaxOpenConns)
	w.SetMaxIdleConns(opts.MaxIdleConns)
	w.SetConnMaxLifetime(opts.ConnMaxLifetime)
	w.SetConnMaxIdleTime(opts.ConnMaxIdleTime)
	if err := migrate(ctx, w, d, opts.Logger); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", where, wrapUnavailable(d, err))
	}
	stmt, _ := strconv.Atoi(cfg.RuntimeParams["statement_timeout"])
	callTimeout := cfg.ConnectTimeout + time.Duration(stmt)*time.Millisecond + time.Second
	db := &DB{w: w, r: w, dialect: d, callTimeout: callTimeout}
	if err := db.prepare(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", where, wrapUnavailable(d, err))
	}
	opts.Logger.InfoContext(ctx, "database opened", "dialect", d.name, "host", cfg.Host, "database", cfg.Database)
	return db, nil
}

// Dialect returns "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect.name }

// Pools returns the connection pools, for their statistics (metrics): the
// one that takes writes and the one that serves reads. For PostgreSQL they
// are the same pool; callers must not close either.
func (db *DB) Pools() (writer, reader *sql.DB) { return db.w, db.r }

// Ping reports whether the database answers; the error wraps
// store.ErrUnavailable if not.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := db.op(ctx)
	defer cancel()
	if err := db.w.PingContext(ctx); err != nil {
		return db.wrap("ping", err)
	}
	if db.r != db.w {
		if err := db.r.PingContext(ctx); err != nil {
			return db.wrap("ping", err)
		}
	}
	return nil
}

// Close closes every connection.
func (db *DB) Close() error {
	err := errors.Join(db.stmts.close(), db.w.Close())
	if db.r != db.w {
		if rerr := db.r.Close(); err == nil {
			err = rerr
		}
	}
	if err != nil {
		return fmt.Errorf("sqlstore: close: %w", err)
	}
	return nil
}

// wrap prefixes err with the failing operation, adding store.ErrUnavailable
// when the database could not be reached or did not answer in time.
func (db *DB) wrap(op string, err error) error {
	return fmt.Errorf("sqlstore: %s: %w", op, wrapUnavailable(db.dialect, err))
}
