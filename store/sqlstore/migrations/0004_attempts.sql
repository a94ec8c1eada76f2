-- The attempt log behind account blocks: one row per password or code
-- attempt that has not been given back, until the account's next completed
-- login clears them or they expire.
CREATE TABLE attempts (
	id         TEXT PRIMARY KEY,
	key        TEXT NOT NULL,
	at         BIGINT NOT NULL, -- unix milliseconds, UTC
	expires_at BIGINT NOT NULL
);

CREATE INDEX attempts_key_at_idx ON attempts (key, at);
CREATE INDEX attempts_expires_at_idx ON attempts (expires_at);
