package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// load drives one server over keep-alive connections with the same request
// again and again, and counts the answers. It is a closed loop: each
// connection sends its next request when the previous answer is in, like
// wrk. It writes pre-built bytes and parses only what it must, so that the
// generator, which shares the machine's cores with the server, costs as
// little as it can.
type load struct {
	addr  string
	req   []byte
	want  []byte // every answer's body must contain it
	conns int
}

type loadResult struct {
	requests int64
	elapsed  time.Duration
	// CPU time spent during the measurement by the server (its process)
	// and by the load generator (this process).
	serverCPU, loadCPU time.Duration
}

func (r loadResult) perSecond() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// run warms up for warmup, then counts answers for d.
func (l load) run(ctx context.Context, warmup, d time.Duration, serverPID int) (loadResult, error) {
	var (
		counting atomic.Bool
		n        atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range l.conns {
		wg.Go(func() {
			if err := l.conn(ctx, &counting, &n); err != nil && ctx.Err() == nil {
				errOnce.Do(func() { firstErr = err; cancel() })
			}
		})
	}
	sleep := func(d time.Duration) {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	sleep(warmup)
	start := time.Now()
	srv0, gen0 := processCPU(serverPID), processCPU(0)
	counting.Store(true)
	sleep(d)
	counting.Store(false)
	elapsed := time.Since(start)
	srv1, gen1 := processCPU(serverPID), processCPU(0)
	got := n.Load()
	cancel()
	wg.Wait()
	if firstErr != nil {
		return loadResult{}, firstErr
	}
	return loadResult{requests: got, elapsed: elapsed, serverCPU: srv1 - srv0, loadCPU: gen1 - gen0}, nil
}

func (l load) conn(ctx context.Context, counting *atomic.Bool, n *atomic.Int64) error {
	c, err := net.Dial("tcp", l.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	go func() {
		<-ctx.Done()
		c.Close()
	}()
	br := bufio.NewReaderSize(c, 16<<10)
	body := make([]byte, 0, 4<<10)
	for checked := false; ctx.Err() == nil; checked = true {
		if _, err := c.Write(l.req); err != nil {
			return err
		}
		status, b, err := readResponse(br, body[:0])
		if err != nil {
			return err
		}
		body = b
		if status != 200 || (!checked && !bytes.Contains(body, l.want)) {
			return fmt.Errorf("bench: answer %d %q, want 200 with %q", status, body, l.want)
		}
		if counting.Load() {
			n.Add(1)
		}
	}
	return nil
}

// readResponse reads one HTTP/1.1 response with a Content-Length or
// chunked body into buf and returns its status.
func readResponse(br *bufio.Reader, buf []byte) (int, []byte, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	if len(line) < 12 {
		return 0, nil, errors.New("bench: short status line")
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, fmt.Errorf("bench: status line %q", line)
	}
	length, chunked := -1, false
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		if len(line) <= 2 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			length, _ = strconv.Atoi(string(v))
		case bytes.EqualFold(k, []byte("Transfer-Encoding")) && bytes.EqualFold(v, []byte("chunked")):
			chunked = true
		}
	}
	if !chunked {
		if length < 0 {
			return 0, nil, errors.New("bench: answer without Content-Length")
		}
		buf = grow(buf, length)
		_, err := io.ReadFull(br, buf)
		return status, buf, err
	}
	buf = buf[:0]
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 32)
		if err != nil {
			return 0, nil, fmt.Errorf("bench: chunk size %q", line)
		}
		start := len(buf)
		buf = grow(buf, start+int(size)+2)
		if _, err := io.ReadFull(br, buf[start:]); err != nil {
			return 0, nil, err
		}
		buf = buf[:start+int(size)]
		if size == 0 {
			return status, buf, nil
		}
	}
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		nb := make([]byte, n)
		copy(nb, b)
		return nb
	}
	return b[:n]
}

// processCPU returns the user and system CPU time process pid (0: this
// one) has used, from /proc; 0 where /proc is not available.
func processCPU(pid int) time.Duration {
	path := "/proc/self/stat"
	if pid != 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/stat"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may
	// hold spaces: utime and stime are the 12th and 13th of them.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

// clockTicks is USER_HZ, which Linux fixes at 100 for /proc.
const clockTicks = 100
