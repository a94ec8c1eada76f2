-- An account registered through the API that never confirms its number
-- goes after UNCONFIRMED_ACCOUNT_TTL: until then it holds its email, so a
-- stranger who registered someone else's email cannot keep it. NULL: the
-- account never expires (confirmed, imported, or older than this column).
ALTER TABLE users ADD COLUMN unconfirmed_expires_at BIGINT;

CREATE INDEX users_unconfirmed_idx ON users (unconfirmed_expires_at) WHERE unconfirmed_expires_at IS NOT NULL;
