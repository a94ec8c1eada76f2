-- Kept in step with 0006_sessions.sqlite.sql: only secret's type differs.
-- A session is one sign-in: its refresh tokens are HMACs of (id, counter)
-- under a key derived from secret and the server's REFRESH_TOKEN_SECRET,
-- so the table holds no token and a leak of it yields none.
CREATE TABLE sessions (
	id              TEXT PRIMARY KEY,
	user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	secret          BYTEA NOT NULL,
	counter         BIGINT NOT NULL,  -- of the current refresh token
	rotated_at      BIGINT NOT NULL,  -- when counter last moved
	amr             TEXT NOT NULL,
	user_agent      TEXT NOT NULL DEFAULT '',
	ip_address      TEXT NOT NULL DEFAULT '',
	created_at      BIGINT NOT NULL,
	last_used_at    BIGINT NOT NULL,
	idle_expires_at BIGINT NOT NULL,
	expires_at      BIGINT NOT NULL,  -- absolute lifetime
	revoked_at      BIGINT
);

CREATE INDEX sessions_user_id_idx ON sessions (user_id, created_at);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
CREATE INDEX sessions_idle_expires_at_idx ON sessions (idle_expires_at);
