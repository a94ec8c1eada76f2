package auth

import "time"

// ErrRateLimitedForTest exposes errRateLimited to the package's tests.
func ErrRateLimitedForTest(limit string, after time.Duration) *Error {
	return errRateLimited(limit, after, nil)
}
