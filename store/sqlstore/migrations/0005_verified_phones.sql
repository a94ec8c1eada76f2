-- Who owns a verified number: one account per number. Confirmations from
-- now on claim the row; numbers that several accounts verified before this
-- migration go to the one that registered first, and the others keep
-- working (their phone_verified stays true).
CREATE TABLE verified_phones (
	phone       TEXT PRIMARY KEY,
	user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	verified_at BIGINT NOT NULL
);

CREATE INDEX verified_phones_user_id_idx ON verified_phones (user_id);

INSERT INTO verified_phones (phone, user_id, verified_at)
	SELECT phone, id, updated_at FROM users WHERE phone_verified ORDER BY created_at, id
	ON CONFLICT (phone) DO NOTHING;

CREATE INDEX challenges_phone_idx ON challenges (phone);
