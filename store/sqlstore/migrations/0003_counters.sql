CREATE TABLE counters (
	key      TEXT PRIMARY KEY,
	count    INTEGER NOT NULL,
	reset_at BIGINT NOT NULL -- end of the current window, unix milliseconds
);

CREATE INDEX counters_reset_at_idx ON counters (reset_at);
