-- Kept in step with 0007_lifecycle.sqlite.sql, which has to rebuild the
-- table to drop a NOT NULL.
--
-- A challenge now has a purpose: a login's code step, a password reset, or
-- a phone change; a token of one purpose is refused by the others. A reset
-- requested for an email without an account (or without a verified
-- number) is a challenge with no user, which behaves like a real one and
-- can never succeed. channel is how its code was last sent.
ALTER TABLE challenges ADD COLUMN purpose TEXT NOT NULL DEFAULT 'login';
ALTER TABLE challenges ADD COLUMN channel TEXT NOT NULL DEFAULT 'sms';
ALTER TABLE challenges ALTER COLUMN user_id DROP NOT NULL;

-- Sends that a request queued rather than waited for (password reset
-- codes): any replica's worker claims a row for a lease, sends, and
-- deletes it. A row outlives a shutdown; one whose challenge is gone goes
-- with it.
CREATE TABLE outbox (
	id           TEXT PRIMARY KEY,
	challenge_id TEXT NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
	created_at   BIGINT NOT NULL,
	tries        INTEGER NOT NULL DEFAULT 0,
	available_at BIGINT NOT NULL -- claimable from then: a claim moves it past its lease
);

CREATE INDEX outbox_available_at_idx ON outbox (available_at);
CREATE INDEX outbox_challenge_id_idx ON outbox (challenge_id);
