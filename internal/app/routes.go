package app

import (
	"context"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/twostep/twostep/graph"
	"github.com/twostep/twostep/internal/graphiql"
	"github.com/twostep/twostep/internal/httpedge"
)

// routes mounts every endpoint. What protects them is the edge's (see
// httpedge); /graphql also counts as other work for the hash limiter once
// its body has arrived.
func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/graphql", a.limiter.Middleware(graph.NewHandler(graph.HandlerConfig{
		Auth:          a.svc,
		Logger:        a.log,
		Introspection: !a.cfg.Production,
		Observer:      a.operationObserver(),
	})))
	jwks := a.tokens.JWKS()
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		// The public keys of access tokens, for other services to verify
		// them with; caches may keep them ten minutes (key rotation waits
		// that long before a new key signs).
		h := w.Header()
		h.Set("Content-Type", "application/jwk-set+json")
		h.Set("Cache-Control", "public, max-age=600")
		_, _ = w.Write(jwks)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		httpedge.WriteJSON(w, http.StatusOK, []byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.svc.Ready(ctx); err != nil {
			a.log.WarnContext(r.Context(), "not ready", "err", err)
			httpedge.WriteJSON(w, http.StatusServiceUnavailable, []byte(`{"status":"unavailable"}`))
			return
		}
		httpedge.WriteJSON(w, http.StatusOK, []byte(`{"status":"ok"}`))
	})
	web := webHandler(a.cfg.WebDir)
	if web != nil {
		mux.Handle("/app/", http.StripPrefix("/app", web))
		a.log.Info("web client served at /app/", "dir", a.cfg.WebDir)
	} else {
		a.log.Info("web client not served: no index.html in WEB_DIR (build it with: cd web && npm ci && npm run build)", "dir", a.cfg.WebDir)
	}
	switch {
	case !a.cfg.Production:
		ide := graphiql.Handler("twostep", "/graphql")
		mux.Handle("GET /{$}", ide)
		mux.Handle("GET "+graphiql.Prefix, ide)
	case web != nil:
		mux.Handle("GET /{$}", http.RedirectHandler("/app/", http.StatusFound))
	}
	return mux
}

// webHandler serves the built web app from dir. Client-side routes (paths
// without a file extension) get index.html; a missing asset is a 404, so a
// stale tab after a deploy fails plainly instead of loading HTML as script.
// Only regular files are served: a folder gets index.html like a client
// route (no listing), and a dotfile (.env, .git) is a 404 like a missing
// asset. It returns nil when the app has not been built.
func webHandler(dir string) http.Handler {
	if dir == "" {
		return nil
	}
	index := filepath.Join(dir, "index.html")
	if _, err := os.Stat(index); err != nil {
		return nil
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil
	}
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		clean := path.Clean("/" + r.URL.Path)
		if clean != "/" && clean != "/index.html" {
			if servable(root, dir, clean) {
				if strings.HasPrefix(clean, "/assets/") {
					// Vite puts a content hash in every asset name.
					h.Set("Cache-Control", "public, max-age=31536000, immutable")
				}
				files.ServeHTTP(w, r)
				return
			}
			if path.Ext(clean) != "" || strings.Contains(clean, "/.") {
				http.NotFound(w, r)
				return
			}
		}
		h.Set("Cache-Control", "no-cache")
		http.ServeFile(w, r, index)
	})
}

// servable reports whether clean, a cleaned URL path, names a regular file
// in dir, none of whose path elements is hidden, and that is in dir (whose
// real path is root) once symbolic links are followed: a link to a
// dotfile, or out of the folder, is not served.
func servable(root, dir, clean string) bool {
	if strings.Contains(clean, "/.") {
		return false
	}
	real, err := filepath.EvalSymlinks(filepath.Join(dir, filepath.FromSlash(clean)))
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) ||
		strings.Contains(string(filepath.Separator)+rel, string(filepath.Separator)+".") {
		return false
	}
	fi, err := os.Stat(real)
	return err == nil && fi.Mode().IsRegular()
}
