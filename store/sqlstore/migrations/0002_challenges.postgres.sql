-- Kept in step with 0002_challenges.sqlite.sql: only token_hash's type differs.
CREATE TABLE challenges (
	id               TEXT PRIMARY KEY,
	token_hash       BYTEA NOT NULL UNIQUE,
	user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	phone            TEXT NOT NULL,
	verification_sid TEXT NOT NULL DEFAULT '',
	attempts         INTEGER NOT NULL DEFAULT 0,
	max_attempts     INTEGER NOT NULL,
	created_at       BIGINT NOT NULL,
	expires_at       BIGINT NOT NULL,
	consumed_at      BIGINT
);

CREATE INDEX challenges_user_id_idx ON challenges (user_id);
CREATE INDEX challenges_expires_at_idx ON challenges (expires_at);
