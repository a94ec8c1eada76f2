package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twostep/twostep/internal/app"
	"github.com/twostep/twostep/internal/config"
)

// BenchmarkHandlers drives the two servers' handlers in process, without
// the network, to show where the time of one `me` goes (-benchmem for
// allocations, -cpuprofile for a profile). The loopback comparison that
// the README reports is TestLoopback / `twostep bench`.
func BenchmarkHandlers(b *testing.B) {
	dbURL := "sqlite:" + filepath.Join(b.TempDir(), "twostep.db")
	token, err := fixture(b.Context(), dbURL)
	if err != nil {
		b.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": dbURL, "JWT_SECRET": secret, "LOG_LEVEL": "warn", "BCRYPT_COST": "4"}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	a, err := app.New(b.Context(), cfg, app.Options{Stdout: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	plain, closePlain, err := plainHandler(b.Context(), strings.TrimPrefix(dbURL, "sqlite:"))
	if err != nil {
		b.Fatal(err)
	}
	defer closePlain()
	for _, s := range []struct {
		name string
		h    http.Handler
	}{{"plain", plain}, {"twostep", a.Handler()}} {
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(meQuery))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+token)
					// As net/http's: cancellable, which the drivers watch.
					ctx, cancel := context.WithCancel(req.Context())
					rec := httptest.NewRecorder()
					s.h.ServeHTTP(rec, req.WithContext(ctx))
					cancel()
					if rec.Code != 200 || !strings.Contains(rec.Body.String(), userID) {
						b.Fatalf("%s: %d %s", s.name, rec.Code, rec.Body)
					}
				}
			})
		})
	}
}
