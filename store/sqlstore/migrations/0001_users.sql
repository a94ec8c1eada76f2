CREATE TABLE users (
	id             TEXT PRIMARY KEY,
	email          TEXT NOT NULL,
	password_hash  TEXT NOT NULL,
	phone          TEXT NOT NULL,
	phone_verified BOOLEAN NOT NULL DEFAULT false,
	created_at     BIGINT NOT NULL, -- unix milliseconds, UTC
	updated_at     BIGINT NOT NULL,
	-- Named so PostgreSQL reports it: a duplicate email is ErrEmailTaken,
	-- a duplicate id is not.
	CONSTRAINT users_email_key UNIQUE (email)
);
