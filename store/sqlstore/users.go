package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/twostep/twostep/store"
)

const userColumns = `id, email, password_hash, phone, phone_verified, created_at, updated_at, unconfirmed_expires_at`

// CreateUser inserts u. It returns store.ErrEmailTaken if the email is in use.
func (db *DB) CreateUser(ctx context.Context, u *store.User) error {
	ctx, cancel := db.op(ctx)
	defer cancel()
	_, err := db.w.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		u.ID, u.Email, u.PasswordHash, u.Phone, u.PhoneVerified, millis(u.CreatedAt), millis(u.UpdatedAt),
		nullMillis(u.UnconfirmedExpiresAt))
	if db.dialect.emailTaken(err) {
		return db.wrap("create user", store.ErrEmailTaken)
	}
	if err != nil {
		return db.wrap("create user", err)
	}
	return nil
}

// UserByID returns the user with id, or store.ErrNotFound.
func (db *DB) UserByID(ctx context.Context, id string) (*store.User, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	u, err := scanUser(db.stmts.userByID.QueryRowContext(ctx, id))
	if err != nil {
		return nil, db.wrap("user by id", err)
	}
	return u, nil
}

// UserByEmail returns the user with email, or store.ErrNotFound.
func (db *DB) UserByEmail(ctx context.Context, email string) (*store.User, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	u, err := scanUser(db.stmts.userByEmail.QueryRowContext(ctx, email))
	if err != nil {
		return nil, db.wrap("user by email", err)
	}
	return u, nil
}

// UpdatePasswordHash replaces a user's password hash. It returns
// store.ErrNotFound if the user does not exist.
func (db *DB) UpdatePasswordHash(ctx context.Context, userID, hash string, now time.Time) error {
	ctx, cancel := db.op(ctx)
	defer cancel()
	res, err := db.w.ExecContext(ctx, `UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1`,
		userID, hash, millis(now))
	if err != nil {
		return db.wrap("update password hash", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return db.wrap("update password hash", err)
	} else if n == 0 {
		return db.wrap("update password hash", store.ErrNotFound)
	}
	return nil
}

// PhoneOwner returns the user who verified phone, or store.ErrNotFound.
func (db *DB) PhoneOwner(ctx context.Context, phone string) (string, error) {
	ctx, cancel := db.op(ctx)
	defer cancel()
	var id string
	err := db.r.QueryRowContext(ctx, `SELECT user_id FROM verified_phones WHERE phone = $1`, phone).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", db.wrap("phone owner", store.ErrNotFound)
	}
	if err != nil {
		return "", db.wrap("phone owner", err)
	}
	return id, nil
}

func scanUser(row scanner) (*store.User, error) {
	var u store.User
	var created, updated int64
	var expires sql.NullInt64
	err := row.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Phone, &u.PhoneVerified, &created, &updated, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt, u.UnconfirmedExpiresAt = fromMillis(created), fromMillis(updated), fromNullMillis(expires)
	return &u, nil
}

// millis and fromMillis convert between time.Time and the BIGINT unix
// milliseconds both dialects store, so every query is the same.
func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
