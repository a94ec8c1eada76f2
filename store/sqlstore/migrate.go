package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twostep/twostep/store"
)

// migrationFiles holds the schema, one file per step: NNNN_name.sql is
// shared by every dialect, NNNN_name.DIALECT.sql (e.g. .postgres.sql) is for
// that dialect only, so each version exists either once or once per dialect.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string // file name, for the log and schema_migrations
	sql     string
}

// migrations returns the migrations for dialect in version order.
func migrations(dialect string) ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, p := range names {
		name := path.Base(p)
		base := strings.TrimSuffix(name, ".sql")
		if i := strings.LastIndexByte(base, '.'); i >= 0 && base[i+1:] != dialect {
			continue
		}
		num, _, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a version number and _", name)
		}
		b, err := migrationFiles.ReadFile(p)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: version, name: name, sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s: same version", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// migrate applies pending migrations in one transaction, so a failed Open
// leaves the schema as it found it, and records them in schema_migrations.
func migrate(ctx context.Context, db *sql.DB, d dialect, log *slog.Logger) error {
	ms, err := migrations(d.name)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()

	if d.lockMigrations != "" {
		if _, err := tx.ExecContext(ctx, d.lockMigrations); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at BIGINT NOT NULL
	)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var applied []migration
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migrate: %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.version, m.name, time.Now().UnixMilli()); err != nil {
			return fmt.Errorf("migrate: %s: %w", m.name, err)
		}
		applied = append(applied, m)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, m := range applied {
		log.InfoContext(ctx, "migration applied", "dialect", d.name, "version", m.version, "name", m.name)
	}
	return nil
}

// MigratedAt returns when migration version was applied to this database
// (its first replica's clock), or store.ErrNotFound if it has not been.
func (db *DB) MigratedAt(ctx context.Context, version int) (time.Time, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	var at int64
	err := db.r.QueryRowContext(ctx, `SELECT applied_at FROM schema_migrations WHERE version = $1`, version).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, db.wrap("migrated at", store.ErrNotFound)
	}
	if err != nil {
		return time.Time{}, db.wrap("migrated at", err)
	}
	return fromMillis(at), nil
}
