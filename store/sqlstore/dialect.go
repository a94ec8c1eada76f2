package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/twostep/twostep/store"
)

// dialect is everything SQLite and PostgreSQL do differently outside the
// migrations. The queries themselves are shared.
type dialect struct {
	name string
	// lockMigrations runs first in the migration transaction. PostgreSQL
	// needs an advisory lock so replicas starting together on an empty
	// database apply each migration once; on SQLite the transaction's
	// BEGIN IMMEDIATE already shuts out every other writer.
	lockMigrations string
	// lockKey runs first in a transaction that must be the only one for
	// its key ($1) at a time, across replicas. SQLite needs none: a write
	// transaction there already excludes every other.
	lockKey string
	// emailTaken reports whether err is the unique violation on users.email.
	emailTaken func(error) bool
	// foreignKey reports whether err is a foreign key violation: a row
	// that refers to one deleted meanwhile.
	foreignKey func(error) bool
	// unavailable reports whether err is the server failing to answer, in
	// the terms of the driver; see wrapUnavailable for the common cases.
	unavailable func(error) bool
}

// migrationLockKey is the PostgreSQL advisory lock key: "twostep" in ASCII.
const migrationLockKey = 0x74776f73746570

func sqliteDialect() dialect {
	return dialect{
		name: "sqlite",
		emailTaken: func(err error) bool {
			// users.id is the primary key (SQLITE_CONSTRAINT_PRIMARYKEY), so
			// a unique violation on users can only be the email.
			var e *sqlite.Error
			return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
		},
		foreignKey: func(err error) bool {
			var e *sqlite.Error
			return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
		},
		unavailable: func(err error) bool {
			// BUSY and LOCKED reach us only once busy_timeout has run out.
			var e *sqlite.Error
			if !errors.As(err, &e) {
				return false
			}
			switch e.Code() & 0xff { // primary code of an extended one
			case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
				return true
			}
			return false
		},
	}
}

func postgresDialect() dialect {
	return dialect{
		name: "postgres",
		// Migrations and the wait for another replica's may outlast
		// DB_STATEMENT_TIMEOUT, which is sized for requests.
		lockMigrations: fmt.Sprintf("SET LOCAL statement_timeout = '5min'; SELECT pg_advisory_xact_lock(%d)", migrationLockKey),
		// The attempt log is limit state, committed like the counters
		// (see asyncCommit).
		lockKey: `SELECT pg_advisory_xact_lock(hashtextextended($1, 0)), set_config('synchronous_commit', 'off', true)`,
		emailTaken: func(err error) bool {
			var e *pgconn.PgError
			return errors.As(err, &e) && e.Code == "23505" && e.ConstraintName == "users_email_key"
		},
		foreignKey: func(err error) bool {
			var e *pgconn.PgError
			return errors.As(err, &e) && e.Code == "23503"
		},
		unavailable: func(err error) bool {
			var ce *pgconn.ConnectError
			if errors.As(err, &ce) || pgconn.Timeout(err) {
				return true
			}
			var e *pgconn.PgError
			if !errors.As(err, &e) {
				return false
			}
			switch {
			case strings.HasPrefix(e.Code, "08"), // connection exception
				strings.HasPrefix(e.Code, "53"),                         // insufficient resources, e.g. too many connections
				e.Code == "57014",                                       // statement_timeout
				e.Code == "57P01", e.Code == "57P02", e.Code == "57P03": // shutting down, starting up
				return true
			}
			return false
		},
	}
}

// wrapUnavailable adds store.ErrUnavailable to err if the database could not
// be reached or did not answer in time, so callers can fail fast and retry
// later; database/sql replaces broken connections by itself.
func wrapUnavailable(d dialect, err error) error {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), // includes waiting for a pooled connection
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &netErr),
		d.unavailable(err):
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}
