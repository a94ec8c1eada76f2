package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/twostep/twostep/store/storetest"
)

// startReplicas starts n servers with env on one fresh PostgreSQL database,
// as n replicas behind a load balancer would run, and returns them with the
// database's URL. env should name one Twilio (withEmulator) and one
// JWT_SECRET (baseEnv's) for all. It skips tb without TEST_DATABASE_URL.
func startReplicas(tb testing.TB, n int, env map[string]string) ([]*testServer, string) {
	tb.Helper()
	dbURL := storetest.NewPostgres(tb)
	env = maps.Clone(env)
	env["DATABASE_URL"] = dbURL
	replicas := make([]*testServer, n)
	for i := range replicas {
		replicas[i] = startServer(tb, env)
	}
	return replicas, dbURL
}

// postGQL is gql for other goroutines than the test's: it returns what
// went wrong instead of failing the test, which only the test's goroutine
// may do.
func postGQL(ctx context.Context, baseURL, bearer, query string, vars map[string]any) (*gqlResponse, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/graphql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var r gqlResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("decode %q: %w", raw, err)
	}
	r.Status = resp.StatusCode
	return &r, nil
}

// across sends n copies of one operation at once, the i-th to replica
// i%len(replicas) with vars(i), and returns the answers in that order.
// The requests are released together, so they really race.
func across(tb testing.TB, replicas []*testServer, n int, query string, vars func(i int) map[string]any) []*gqlResponse {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 30*time.Second)
	defer cancel()
	resps := make([]*gqlResponse, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			resps[i], errs[i] = postGQL(ctx, replicas[i%len(replicas)].URL, "", query, vars(i))
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			tb.Fatalf("request %d to replica %d: %v", i, i%len(replicas), err)
		}
	}
	return resps
}

// codeCounts counts answers by their first error code, "" for success.
func codeCounts(resps []*gqlResponse) map[string]int {
	counts := map[string]int{}
	for _, r := range resps {
		counts[r.code()]++
	}
	return counts
}

// sameVars returns vars for every request.
func sameVars(vars map[string]any) func(int) map[string]any {
	return func(int) map[string]any { return vars }
}
