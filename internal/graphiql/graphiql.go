// Package graphiql serves GraphiQL, the GraphQL IDE that succeeded GraphQL
// Playground, from files built into the binary: pinned versions (see
// update.sh), nothing fetched from anywhere but this server, under a
// Content-Security-Policy that allows exactly that.
package graphiql

import (
	"bytes"
	"compress/gzip"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"sync"
)

// Version is the GraphiQL release in assets/; asset URLs carry it, so they
// can be cached for good.
const Version = "3.8.3"

//go:embed assets
var assets embed.FS

// Prefix is where the assets are served.
const Prefix = "/graphiql/" + Version + "/"

// CSP is the page's Content-Security-Policy: scripts, styles and requests
// only from this origin; inline styles (GraphiQL sets style attributes),
// images and fonts as data: URLs (its icons and fonts are inlined).
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var page = template.Must(template.New("graphiql").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{{.Title}} · GraphiQL</title>
<link rel="stylesheet" href="{{.Prefix}}graphiql.min.css">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql" data-endpoint="{{.Endpoint}}">Loading GraphiQL…</div>
<script src="{{.Prefix}}react.production.min.js"></script>
<script src="{{.Prefix}}react-dom.production.min.js"></script>
<script src="{{.Prefix}}graphiql.min.js"></script>
<script src="{{.Prefix}}init.js"></script>
</body>
</html>
`))

// Handler serves the page at "/" and the assets under Prefix, for the API
// at endpoint. Mount it for GET / and GET Prefix.
func Handler(title, endpoint string) http.Handler {
	var html bytes.Buffer
	if err := page.Execute(&html, map[string]string{"Title": title, "Endpoint": endpoint, "Prefix": Prefix}); err != nil {
		panic("graphiql: " + err.Error()) // a fixed template and fixed data
	}
	sub, _ := fs.Sub(assets, "assets")
	files := &gzipped{fs: sub}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		if name, ok := strings.CutPrefix(r.URL.Path, Prefix); ok {
			files.serve(w, r, name)
			return
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(html.Bytes())
	})
}

// gzipped serves the embedded files, gzip-compressed once for clients that
// accept it (graphiql.min.js is 3.5 MB, 0.9 MB compressed).
type gzipped struct {
	fs   fs.FS
	mu   sync.Mutex
	done map[string][]byte
}

func (g *gzipped) serve(w http.ResponseWriter, r *http.Request, name string) {
	body, err := fs.ReadFile(g.fs, name)
	if err != nil || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	switch {
	case strings.HasSuffix(name, ".js"):
		h.Set("Content-Type", "text/javascript; charset=utf-8")
	case strings.HasSuffix(name, ".css"):
		h.Set("Content-Type", "text/css; charset=utf-8")
	default:
		h.Set("Content-Type", "text/plain; charset=utf-8")
	}
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Add("Vary", "Accept-Encoding")
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = g.compressed(name, body)
	}
	_, _ = w.Write(body)
}

func (g *gzipped) compressed(name string, body []byte) []byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	if z, ok := g.done[name]; ok {
		return z
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(body)
	_ = zw.Close()
	if g.done == nil {
		g.done = map[string][]byte{}
	}
	g.done[name] = buf.Bytes()
	return g.done[name]
}
