package main

// The tests of ARCHITECTURE.md: the allowed direction of imports and the
// size of hand-written files.

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// moduleRoot returns the directory of go.mod.
func moduleRoot(tb testing.TB) string {
	tb.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		tb.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// TestImportDirection checks, with go list, that dependencies point inward:
// main → app → graph → auth → store, with the adapters (the SQL and
// in-memory stores, the Twilio client) wired only by the composition root.
func TestImportDirection(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...")
	cmd.Dir = moduleRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/twostep/twostep"
	adapters := anyOf(under("store/sqlstore"), under("store/memstore"), under("twilioverify"))
	rules := []struct {
		name     string
		from, to func(string) bool
	}{
		{"auth holds the rules: no GraphQL, HTTP or adapter", under("auth"),
			anyOf(under("graph"), under("internal"), under("store/sqlstore"), under("twilioverify"))},
		{"auth imports a store implementation only in its test kit", andNot(under("auth"), under("auth/authtest")), under("store/memstore")},
		{"store knows nothing above it", under("store"), anyOf(under("auth"), under("graph"), under("internal"), under("twilioverify"))},
		{"graph is GraphQL glue: no store implementation or Twilio adapter", under("graph"), anyOf(adapters, under("internal/app"))},
		{"the Twilio adapter implements auth's interface and knows nothing above it", under("twilioverify"), anyOf(under("graph"), under("store"), under("internal"))},
		{"the HTTP edge is a leaf", under("internal/httpedge"), anyOf(under("auth"), under("graph"), under("store"), under("twilioverify"))},
		{"metrics are wired by the composition root only: the rest knows them as hooks", andNot(under(""), anyOf(is("internal/app"), is("internal/metrics"))), under("internal/metrics")},
		{"only main, the test harness and the benchmark build the app", andNot(anyOf(under("")), anyOf(is(""), under("internal/apptest"), under("internal/bench"))), under("internal/app")},
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		from := strings.TrimPrefix(strings.TrimPrefix(f[0], mod), "/")
		for _, imp := range f[1:] {
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			to := strings.TrimPrefix(strings.TrimPrefix(imp, mod), "/")
			for _, r := range rules {
				if r.from(from) && r.to(to) {
					t.Errorf("%s imports %s: %s", orMain(from), orMain(to), r.name)
				}
			}
		}
	}
}

func orMain(p string) string {
	if p == "" {
		return "main"
	}
	return p
}

// under matches dir and the packages below it; under("") matches all.
func under(dir string) func(string) bool {
	return func(p string) bool { return dir == "" || p == dir || strings.HasPrefix(p, dir+"/") }
}

func is(p string) func(string) bool { return func(q string) bool { return q == p } }

func anyOf(fs ...func(string) bool) func(string) bool {
	return func(p string) bool {
		for _, f := range fs {
			if f(p) {
				return true
			}
		}
		return false
	}
}

func andNot(f, g func(string) bool) func(string) bool {
	return func(p string) bool { return f(p) && !g(p) }
}

// TestFileSize keeps hand-written Go files short enough to read in one
// sitting: none over 400 lines but generated code and tests.
func TestFileSize(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte("Code generated")) && bytes.Contains(b, []byte("DO NOT EDIT")) {
			return nil
		}
		if n := bytes.Count(b, []byte("\n")); n > 400 {
			rel, _ := filepath.Rel(root, path)
			t.Errorf("%s has %d lines, want at most 400: split it by responsibility", rel, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
