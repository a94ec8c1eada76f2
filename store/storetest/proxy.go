package storetest

import (
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy is a TCP proxy on loopback in front of a database server. Tests
// point a store or a whole server at it and then cut it, to see what an
// outage looks like from the client's side.
type Proxy struct {
	tb     testing.TB
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener // nil while cut
	conns map[net.Conn]bool
	// mute: accept connections but forward nothing on them; frozen: stop
	// forwarding on the connections already open too.
	mute, frozen bool
}

// NewProxy starts a proxy on a free loopback port forwarding to target
// (host:port). It is shut down when tb ends.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("proxy: listen: %v", err)
	}
	p := &Proxy{tb: tb, target: target, addr: ln.Addr().String(), conns: map[net.Conn]bool{}}
	p.serve(ln)
	tb.Cleanup(p.Cut)
	return p
}

// Addr returns the proxy's host:port.
func (p *Proxy) Addr() string { return p.addr }

// URL returns databaseURL with its host:port replaced by the proxy's.
func (p *Proxy) URL(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil {
		// Not %v: the URL may hold a password. Errorf, not Fatalf: p.tb
		// may be a parent of the test calling.
		p.tb.Error("proxy: database URL does not parse")
		return ""
	}
	u.Host = p.addr
	return u.String()
}

// Cut closes every connection and refuses new ones, the way a stopped
// database server looks.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutLocked()
}

// Stall closes every connection and then accepts new ones without ever
// answering, the way a hung server looks.
func (p *Proxy) Stall() { p.reopen(true) }

// Freeze stops forwarding on the open connections, leaving them open, and
// accepts new ones without answering: a network that silently drops every
// packet, where only the client's own deadlines end a call.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mute, p.frozen = true, true
}

// Restore closes whatever is left from before and forwards new
// connections again, on the same address.
func (p *Proxy) Restore() { p.reopen(false) }

// reopen cuts, then listens again; mute: without forwarding.
func (p *Proxy) reopen(mute bool) {
	p.mu.Lock()
	p.cutLocked()
	p.mute = mute
	p.mu.Unlock()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.tb.Errorf("proxy: listen again on %s: %v", p.addr, err)
		return
	}
	p.serve(ln)
}

func (p *Proxy) cutLocked() {
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
	p.mute, p.frozen = false, false
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by Cut
			}
			p.mu.Lock()
			if p.ln != ln { // cut between Accept and here
				p.mu.Unlock()
				c.Close()
				return
			}
			p.conns[c] = true
			mute := p.mute
			p.mu.Unlock()
			if !mute {
				go p.forward(c)
			}
		}
	}()
}

func (p *Proxy) forward(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if !p.conns[c] { // cut while dialling
		p.mu.Unlock()
		s.Close()
		return
	}
	p.conns[s] = true
	p.mu.Unlock()
	go p.pipe(s, c)
	p.pipe(c, s)
}

// pipe copies src to dst until either closes, dropping what it reads while
// the proxy is frozen.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			frozen := p.frozen
			p.mu.Unlock()
			if !frozen {
				if _, err := dst.Write(buf[:n]); err != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}
