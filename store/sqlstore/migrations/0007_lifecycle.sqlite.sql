-- Kept in step with 0007_lifecycle.postgres.sql (see there). SQLite cannot
-- drop a NOT NULL, so challenges is rebuilt; nothing references it yet.
CREATE TABLE challenges_new (
	id               TEXT PRIMARY KEY,
	token_hash       BLOB NOT NULL UNIQUE,
	user_id          TEXT REFERENCES users (id) ON DELETE CASCADE,
	phone            TEXT NOT NULL,
	verification_sid TEXT NOT NULL DEFAULT '',
	attempts         INTEGER NOT NULL DEFAULT 0,
	max_attempts     INTEGER NOT NULL,
	created_at       BIGINT NOT NULL,
	expires_at       BIGINT NOT NULL,
	consumed_at      BIGINT,
	purpose          TEXT NOT NULL DEFAULT 'login',
	channel          TEXT NOT NULL DEFAULT 'sms'
);

INSERT INTO challenges_new (id, token_hash, user_id, phone, verification_sid, attempts, max_attempts, created_at, expires_at, consumed_at)
	SELECT id, token_hash, user_id, phone, verification_sid, attempts, max_attempts, created_at, expires_at, consumed_at FROM challenges;
DROP TABLE challenges;
ALTER TABLE challenges_new RENAME TO challenges;

CREATE INDEX challenges_user_id_idx ON challenges (user_id);
CREATE INDEX challenges_expires_at_idx ON challenges (expires_at);
CREATE INDEX challenges_phone_idx ON challenges (phone);

CREATE TABLE outbox (
	id           TEXT PRIMARY KEY,
	challenge_id TEXT NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
	created_at   BIGINT NOT NULL,
	tries        INTEGER NOT NULL DEFAULT 0,
	available_at BIGINT NOT NULL
);

CREATE INDEX outbox_available_at_idx ON outbox (available_at);
CREATE INDEX outbox_challenge_id_idx ON outbox (challenge_id);
