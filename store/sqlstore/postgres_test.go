package sqlstore_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/twostep/twostep/store"
	"github.com/twostep/twostep/store/sqlstore"
	"github.com/twostep/twostep/store/storetest"
)

func TestPostgres(t *testing.T) {
	storetest.SkipWithoutPostgres(t)
	storetest.Run(t, func(tb testing.TB) store.Store {
		db := mustOpen(tb, storetest.NewPostgres(tb), sqlstore.Options{})
		if got := db.Dialect(); got != "postgres" {
			tb.Fatalf("Dialect() = %q, want postgres", got)
		}
		return db
	})
}

// TestPostgresConcurrentOpen starts replicas at once on an empty database:
// the advisory lock must let exactly one of them create the schema.
func TestPostgresConcurrentOpen(t *testing.T) {
	dbURL := storetest.NewPostgres(t)
	const replicas = 4
	dbs := make([]*sqlstore.DB, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { dbs[i], errs[i] = sqlstore.Open(t.Context(), dbURL, sqlstore.Options{}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open() replica %d = %v", i, err)
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	for i, db := range dbs {
		if err := db.Ping(t.Context()); err != nil {
			t.Errorf("Ping() replica %d = %v", i, err)
		}
	}

	// The migrations table is not part of the Store, so read it directly.
	rows := storetest.QueryPostgres(t, dbURL, "SELECT version FROM schema_migrations ORDER BY version")
	for i, v := range rows {
		if v != int64(i+1) {
			t.Fatalf("schema_migrations versions = %v, want 1..n each once", rows)
		}
	}
	if len(rows) == 0 {
		t.Fatalf("schema_migrations is empty")
	}
}

// TestPostgresOutage cuts the network between the store and PostgreSQL and
// restores it: while cut, calls must fail fast with ErrUnavailable; once
// restored, the same DB must work again without being reopened.
func TestPostgresOutage(t *testing.T) {
	dbURL := storetest.NewPostgres(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, u.Host)
	u.Host = p.addr
	db := mustOpen(t, u.String(), sqlstore.Options{ConnectTimeout: time.Second})
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("Ping() before outage = %v", err)
	}

	check := func(phase string, timeout time.Duration) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), timeout)
		defer cancel()
		start := time.Now()
		err := db.Ping(ctx)
		took := time.Since(start)
		t.Logf("Ping() %s = %v after %v", phase, err, took)
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("Ping() %s = %v, want %v", phase, err, store.ErrUnavailable)
		}
		// Fast: well before the context would have given up on its own,
		// except where the context is the only thing that can notice.
		if took > timeout+time.Second {
			t.Errorf("Ping() %s took %v, want at most %v", phase, took, timeout)
		}
	}

	p.down()
	check("with PostgreSQL refusing connections", 3*time.Second)
	if _, err := db.UserByID(t.Context(), "u1"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("UserByID() with PostgreSQL down = %v, want %v", err, store.ErrUnavailable)
	}
	p.up()
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("Ping() after restore = %v, want nil", err)
	}

	p.stall()
	check("with PostgreSQL not answering", 500*time.Millisecond)
	p.up()
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("Ping() after second restore = %v, want nil", err)
	}
	if _, err := db.UserByID(t.Context(), "u1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByID() after restore = %v, want %v", err, store.ErrNotFound)
	}
}

// proxy forwards TCP connections to PostgreSQL and can stop doing so, the
// way a network or server outage looks to the store.
type proxy struct {
	tb     testing.TB
	target string
	addr   string

	mu      sync.Mutex
	ln      net.Listener
	conns   map[net.Conn]bool
	stalled bool // accept connections but forward nothing
}

func startProxy(tb testing.TB, target string) *proxy {
	tb.Helper()
	p := &proxy{tb: tb, target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	tb.Cleanup(p.down)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // listener closed by down
			}
			p.mu.Lock()
			p.conns[c] = true
			stalled := p.stalled
			p.mu.Unlock()
			if !stalled {
				go p.forward(c)
			}
		}
	}()
}

func (p *proxy) forward(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[s] = true
	p.mu.Unlock()
	go func() { io.Copy(s, c); s.Close() }()
	io.Copy(c, s)
	c.Close()
}

// down closes the listener and every connection: new dials are refused.
func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// stall drops every connection and then accepts new ones without ever
// answering, like a server that hangs.
func (p *proxy) stall() {
	p.down()
	p.mu.Lock()
	p.stalled = true
	p.mu.Unlock()
	p.listen()
}

// up forwards again on the same address.
func (p *proxy) up() {
	p.down()
	p.mu.Lock()
	p.stalled = false
	p.mu.Unlock()
	p.listen()
}

func (p *proxy) listen() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.tb.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}
