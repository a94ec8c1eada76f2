package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/twostep/twostep/store"
)

// refreshToken returns the refresh token of sess at counter n:
// "<session id>.<n>.<HMAC>", the HMAC under a key derived from the server's
// secret and the session's. The server can recompute the current token;
// the database alone cannot.
func (s *Service) refreshToken(sess *store.Session, n int64) string {
	return sess.ID + "." + strconv.FormatInt(n, 10) + "." + base64.RawURLEncoding.EncodeToString(s.refreshMAC(sess, n))
}

func (s *Service) refreshMAC(sess *store.Session, n int64) []byte {
	k := hmac.New(sha256.New, s.sessions.Secret)
	k.Write(sess.Secret)
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte("twostep refresh v1\x00" + sess.ID + "\x00" + strconv.FormatInt(n, 10)))
	return m.Sum(nil)
}

// parseRefreshToken splits a refresh token; ok is false for any other
// shape.
func parseRefreshToken(tok string) (sid string, n int64, mac []byte, ok bool) {
	if len(tok) > 200 {
		return "", 0, nil, false
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", 0, nil, false
	}
	// One spelling per token: "+1" and "01" parse as 1 but were never issued.
	n, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != parts[1] {
		return "", 0, nil, false
	}
	// The decoder skips CR and LF even when strict: accept only the 43
	// characters of a 32-byte MAC.
	if len(parts[2]) != base64.RawURLEncoding.EncodedLen(sha256.Size) || strings.ContainsAny(parts[2], "\r\n") {
		return "", 0, nil, false
	}
	mac, err = base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil || len(mac) != sha256.Size {
		return "", 0, nil, false
	}
	if id, err := uuid.Parse(parts[0]); err != nil || id.String() != parts[0] {
		return "", 0, nil, false
	}
	return parts[0], n, mac, true
}
