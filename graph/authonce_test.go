package graph

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twostep/twostep/auth/authtest"
	"github.com/twostep/twostep/internal/gqltest"
	"github.com/twostep/twostep/internal/httpedge"
	"github.com/twostep/twostep/store"
	"github.com/twostep/twostep/store/memstore"
)

// sessionReads counts the reads of a session: one per authentication.
type sessionReads struct {
	store.Store
	n atomic.Int64
}

func (s *sessionReads) UserBySession(ctx context.Context, userID, sessionID string, now time.Time) (*store.User, error) {
	s.n.Add(1)
	return s.Store.UserBySession(ctx, userID, sessionID, now)
}

// TestAuthOncePerOperation: however many @auth fields an operation holds
// (aliases, siblings on goroutines of their own), it is authenticated once;
// each request is authenticated afresh.
func TestAuthOncePerOperation(t *testing.T) {
	st := &sessionReads{Store: memstore.New()}
	a := authtest.New(t, authtest.Options{Store: st})
	token := a.SignIn(t, "ada@example.com", authtest.NextPhone()).AccessToken
	mux := http.NewServeMux()
	mux.Handle("/graphql", NewHandler(HandlerConfig{Auth: a.Svc}))
	c := &gqltest.Client{Handler: httpedge.New(httpedge.Options{}, mux)}
	query := "{ " + aliases("me { id }", 50) + " sessions { id } }"
	for i := range 2 {
		before := st.n.Load()
		req := post(query, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if r := c.Send(t, req); r.Code() != "" || strings.Count(r.Body, `"id"`) != 51 {
			t.Fatalf("request %d = %s", i, r.Body)
		}
		if n := st.n.Load() - before; n != 1 {
			t.Errorf("request %d read the session %d times, want once", i, n)
		}
	}
}
