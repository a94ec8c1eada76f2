package apptest

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/twostep/twostep/internal/gqltest"
)

// Post sends one operation without a token.
func (s *Server) Post(tb testing.TB, query string, vars map[string]any) *gqltest.Response {
	tb.Helper()
	return s.Client.Post(tb, query, vars)
}

// Do sends op.
func (s *Server) Do(tb testing.TB, op gqltest.Op) *gqltest.Response {
	tb.Helper()
	return s.Client.Do(tb, op)
}

// Register creates an account with Password.
func (s *Server) Register(tb testing.TB, email, phone string) gqltest.User {
	tb.Helper()
	var p struct{ User gqltest.User }
	s.Post(tb, gqltest.RegisterOp, gqltest.RegisterVars(email, Password, phone)).Decode(tb, "register", &p)
	return p.User
}

// Login runs the password step with Password.
func (s *Server) Login(tb testing.TB, email string) gqltest.Login {
	tb.Helper()
	var l gqltest.Login
	s.Post(tb, gqltest.LoginOp, gqltest.LoginVars(email, Password)).Decode(tb, "login", &l)
	return l
}

// Verify runs the code step with the code the emulator last sent to phone.
func (s *Server) Verify(tb testing.TB, mfaToken, phone string) gqltest.Auth {
	tb.Helper()
	var a gqltest.Auth
	s.Post(tb, gqltest.VerifyOp, gqltest.VerifyVars(mfaToken, s.Code(tb, phone))).Decode(tb, "verifyOtp", &a)
	return a
}

// SignIn registers email with phone, logs in, enters the code and returns
// the access token.
func (s *Server) SignIn(tb testing.TB, email, phone string) string {
	tb.Helper()
	s.Register(tb, email, phone)
	return s.Verify(tb, s.Login(tb, email).MFAToken, phone).AccessToken
}

// Code returns the last code the emulator sent to phone.
func (s *Server) Code(tb testing.TB, phone string) string {
	tb.Helper()
	if s.Emu == nil {
		tb.Fatal("apptest: Code needs the emulator (not Options.Dev)")
	}
	code, ok := s.Emu.Code(phone)
	if !ok {
		tb.Fatalf("apptest: the emulator sent no code to %s", phone)
	}
	return code
}

var phoneSeq atomic.Int64

// NextPhone returns a valid US mobile-style number no other call returned.
func NextPhone() string { return fmt.Sprintf("+1415555%04d", phoneSeq.Add(1)%10000) }
