package graph

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/auth/authtest"
	"github.com/twostep/twostep/internal/gqltest"
	"github.com/twostep/twostep/internal/httpedge"
	"github.com/twostep/twostep/store"
	"github.com/twostep/twostep/store/memstore"
)

// panicky panics in UserBySession once armed: a bug below a resolver.
type panicky struct {
	store.Store
	armed atomic.Bool
}

func (s *panicky) UserBySession(ctx context.Context, userID, sessionID string, now time.Time) (*store.User, error) {
	if s.armed.Load() {
		panic("boom")
	}
	return s.Store.UserBySession(ctx, userID, sessionID, now)
}

// TestResolverPanic: a panic under a resolver is INTERNAL_SERVER_ERROR,
// logged with its stack, also when sibling root fields run on goroutines
// of their own (where the edge's recoverer cannot reach), and the process
// goes on.
func TestResolverPanic(t *testing.T) {
	st := &panicky{Store: memstore.New()}
	a := authtest.New(t, authtest.Options{Store: st})
	token := a.SignIn(t, "ada@example.com", authtest.NextPhone()).AccessToken
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil)) // slog serialises the writes
	mux := http.NewServeMux()
	mux.Handle("/graphql", NewHandler(HandlerConfig{Auth: a.Svc, Logger: log}))
	c := &gqltest.Client{Handler: httpedge.New(httpedge.Options{Logger: log}, mux)}
	st.armed.Store(true)
	// Several times: the sibling's goroutine must be the one that panics.
	for _, q := range []string{"{ me { id } }", "{ me { id } sessions { id } }", "{ a: me { id } b: me { id } c: me { id } d: me { id } }"} {
		req := post(q, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		r := c.Send(t, req)
		if r.Code() != string(auth.CodeInternal) || strings.Contains(r.Body, "boom") {
			t.Errorf("%s with a panicking store = %s, want INTERNAL_SERVER_ERROR without the panic's text", q, r.Body)
		}
	}
	if !strings.Contains(logs.String(), "boom") || !strings.Contains(logs.String(), "stack") {
		t.Errorf("the panic was not logged with its stack:\n%s", logs.String())
	}
}

// TestRoleUnmarshal: a value that is not a role is BAD_USER_INPUT at roles.
func TestRoleUnmarshal(t *testing.T) {
	for _, v := range []any{"ADMIN", "admin", "ROOT", 1, nil} {
		var r Role
		err := r.UnmarshalGQL(v)
		var ae *auth.Error
		switch {
		case v == "ADMIN" && (err != nil || r != RoleAdmin):
			t.Errorf("UnmarshalGQL(ADMIN) = %q, %v", r, err)
		case v != "ADMIN" && (!errors.As(err, &ae) || ae.Code != auth.CodeBadUserInput || ae.Field != "roles"):
			t.Errorf("UnmarshalGQL(%v) = %v, want BAD_USER_INPUT at roles", v, err)
		}
	}
}
