package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/authtest"
)

// FuzzRefresh presents arbitrary refresh tokens. Whatever the input, Refresh
// does not panic, fails only with REFRESH_TOKEN_INVALID, and succeeds only
// for a token the server itself handed out: no spelling of a token, no
// other session's secret, no truncated MAC is ever accepted.
func FuzzRefresh(f *testing.F) {
	h := authtest.New(f, authtest.Options{})
	first := h.SignIn(f, "ada@example.com", authtest.NextPhone())
	second := h.SignIn(f, "bob@example.com", authtest.NextPhone())
	issued := map[string]bool{first.RefreshToken: true, second.RefreshToken: true}
	for _, tok := range []string{
		first.RefreshToken, second.RefreshToken,
		strings.Replace(first.RefreshToken, ".0.", ".+0.", 1),
		strings.Replace(first.RefreshToken, ".0.", ".00.", 1),
		strings.Replace(first.RefreshToken, ".0.", ".1.", 1),
		first.SessionID + ".0." + strings.Split(second.RefreshToken, ".")[2],
		strings.ToUpper(first.RefreshToken),
		first.RefreshToken[:len(first.RefreshToken)-2],
		first.RefreshToken[:len(first.RefreshToken)-1] + "Z", // bits past the MAC's end
		"{" + first.SessionID + "}" + first.RefreshToken[len(first.SessionID):],
		first.RefreshToken + "\n",
		first.RefreshToken[:len(first.RefreshToken)-10] + "\r\n" + first.RefreshToken[len(first.RefreshToken)-10:],
		"", ".", "..", "a.b.c",
	} {
		f.Add(tok)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		res, err := h.Svc.Refresh(context.Background(), auth.RefreshInput{RefreshToken: tok})
		if err == nil {
			if !issued[tok] {
				t.Fatalf("Refresh(%q) succeeded for a token the server never issued", tok)
			}
			issued[res.RefreshToken] = true
			return
		}
		var e *auth.Error
		if !errors.As(err, &e) || e.Code != auth.CodeRefreshTokenInvalid {
			t.Fatalf("Refresh(%q) = %v, want REFRESH_TOKEN_INVALID", tok, err)
		}
	})
}
