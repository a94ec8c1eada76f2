package auth

import (
	"context"
	"time"
)

// DefaultUnconfirmedTTL is how long an account registered here may go
// without confirming its number (its first sign-in) before it is deleted.
const DefaultUnconfirmedTTL = 7 * 24 * time.Hour

// ExpireBatch is how many accounts one statement of ExpireUnconfirmed
// deletes at most, so that none runs long.
const ExpireBatch = 500

// ExpireUnconfirmed deletes accounts registered here that did not confirm
// their number within UnconfirmedTTL, ExpireBatch at a time, and records
// ACCOUNT_DELETED for each. It returns how many went.
//
// Until an account confirms its number nothing shows that its email or
// number is its holder's, and it holds the email (EMAIL_TAKEN) and shares
// the number's unconfirmed budgets: so a stranger who registered someone
// else's email cannot keep it. Imported accounts and those older than this
// rule have no time and stay.
func (s *Service) ExpireUnconfirmed(ctx context.Context) (int, error) {
	if s.unconfirmed == 0 {
		return 0, nil // off: nothing expires, whatever time an account was given
	}
	total := 0
	for {
		ids, err := s.store.DeleteUnconfirmedUsers(ctx, s.now(), ExpireBatch)
		if err != nil {
			return total, storeErr(err)
		}
		for _, id := range ids {
			s.log.InfoContext(ctx, "account expired", "user_id", id, "reason", "number not confirmed in time")
			s.event(ctx, EventAccountDeleted, id, "expired: the number was never confirmed")
		}
		total += len(ids)
		if len(ids) < ExpireBatch {
			return total, nil
		}
	}
}
