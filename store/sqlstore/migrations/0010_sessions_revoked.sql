-- DeleteExpired removes the sessions expired, idle or revoked before now:
-- with one term of its OR unindexed, both databases scan every session.
-- Only revoked sessions have a revoked_at, so the index holds only them.
CREATE INDEX sessions_revoked_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
