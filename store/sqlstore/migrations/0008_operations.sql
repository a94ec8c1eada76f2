-- Roles, the security-event trail, and the indexes the administrators'
-- user list needs.
CREATE TABLE user_roles (
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role       TEXT NOT NULL,
	granted_at BIGINT NOT NULL,
	PRIMARY KEY (user_id, role)
);

-- One row per security event. user_id is kept after the user is deleted
-- (the events stay until AUDIT_RETENTION, without email or number: none
-- is ever stored here). dedup_key, when set, makes an event once-only: a
-- limit reached is recorded once per limit, key and window.
CREATE TABLE security_events (
	id         TEXT PRIMARY KEY,
	at         BIGINT NOT NULL,
	type       TEXT NOT NULL,
	user_id    TEXT,
	ip_address TEXT NOT NULL DEFAULT '',
	user_agent TEXT NOT NULL DEFAULT '',
	detail     TEXT NOT NULL DEFAULT '',
	dedup_key  TEXT UNIQUE
);

CREATE INDEX security_events_at_idx ON security_events (at, id);
CREATE INDEX security_events_user_idx ON security_events (user_id, at, id);

CREATE INDEX users_created_idx ON users (created_at, id);
CREATE INDEX users_phone_idx ON users (phone);
