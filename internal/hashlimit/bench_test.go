package hashlimit

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// The benchmarks check the two goals of the package doc in-process: run them
// with -benchtime=1x (each run measures for several seconds on its own):
//
//	go test -run='^$' -bench=. -benchtime=1x ./auth/hashlimit
//
// BenchmarkHashThroughput: logins alone through the limiter reach at least
// 0.90 of raw parallel bcrypt compares (metric "ratio").
// BenchmarkCheapUnderFlood: under a flood of logins at 5x the hashing
// capacity, a cheap request keeps at least 0.5 of its unloaded throughput
// ("ratio") with a p99 latency under 50 ms ("p99-flood-ms").
// Each compares short alternating rounds of the two sides, so that other
// processes weigh on both alike; "ratio" is the median over the rounds.
// The "fixed" variants are the two fixed limits the design rejects, and
// "nolinger" shows why the linger is there.

const (
	benchCost    = 12                    // production cost
	cheapWork    = 50 * time.Microsecond // CPU time of a cheap request (JWT check + indexed read)
	cheapClients = 4                     // concurrent cheap clients, each in a closed loop
	rounds       = 5                     // alternations of the compared measurements per b.N
	measureFor   = time.Second
	warmFor      = time.Second
	floodFactor  = 5 // flood arrival rate, in multiples of the hashing capacity
)

// bench holds what every benchmark needs: a hash to compare against and a
// calibrated cheap task.
type bench struct {
	hash, password []byte
	cheapIters     int
	sink           atomic.Uint32 // keeps spin's results alive
}

func newBench(tb testing.TB) *bench {
	tb.Helper()
	pw := []byte("correct horse battery staple")
	hash, err := bcrypt.GenerateFromPassword(pw, benchCost)
	if err != nil {
		tb.Fatal(err)
	}
	return &bench{hash: hash, password: pw, cheapIters: calibrate(cheapWork)}
}

func (bb *bench) compare() {
	if err := bcrypt.CompareHashAndPassword(bb.hash, bb.password); err != nil {
		panic(err)
	}
}

// spin burns CPU for n rounds of SHA-256 and returns a value the compiler
// cannot drop.
func spin(n int) byte {
	var h [32]byte
	for range n {
		h = sha256.Sum256(h[:])
	}
	return h[0]
}

// calibrate returns the spin rounds that take d, taking the fastest of a few
// runs so that a stray preemption does not inflate it.
func calibrate(d time.Duration) int {
	const n = 20000
	best := time.Duration(1<<63 - 1)
	for range 5 {
		start := time.Now()
		spin(n)
		best = min(best, time.Since(start))
	}
	return max(1, int(float64(n)*float64(d)/float64(best)))
}

// timeRaw returns how long n compares take over one goroutine per core:
// what the machine can hash.
func (bb *bench) timeRaw(n int) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				bb.compare()
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// login acts as a login request through Middleware: tracked, some CPU work
// before the hash (parsing, user lookup), then the hash under l.
func (bb *bench) login(l *Limiter) error {
	tr := l.track()
	defer tr.finish()
	bb.sink.Add(uint32(spin(bb.cheapIters)))
	return l.Do(newContext(context.Background(), tr), bb.compare)
}

func BenchmarkHashThroughput(b *testing.B) {
	bb := newBench(b)
	procs := runtime.GOMAXPROCS(0)
	for _, p := range []struct {
		name string
		opts Options
	}{
		{"adaptive", Options{}},
		{fmt.Sprintf("fixed=%d", max(1, procs-1)), Options{MaxInFlight: max(1, procs-1), MinInFlight: max(1, procs-1)}},
	} {
		b.Run(p.name, func(b *testing.B) {
			var (
				rawTime, limTime time.Duration
				hashes           int
				busy             atomic.Int64
				ratios           []float64
			)
			l := New(p.opts)
			// Short alternating rounds, so that whatever else the machine
			// does weighs on both sides alike.
			for range b.N * rounds {
				n := 4 * procs
				raw := bb.timeRaw(n)

				var next atomic.Int64
				var wg sync.WaitGroup
				start := time.Now()
				// More clients than slots, so that a queue forms as under
				// real load.
				for range 2 * procs {
					wg.Go(func() {
						for next.Add(1) <= int64(n) {
							for bb.login(l) != nil {
								busy.Add(1)
							}
						}
					})
				}
				wg.Wait()
				lim := time.Since(start)
				rawTime += raw
				limTime += lim
				hashes += n
				ratios = append(ratios, raw.Seconds()/lim.Seconds())
			}
			b.ReportMetric(float64(hashes)/rawTime.Seconds(), "raw-hashes/s")
			b.ReportMetric(float64(hashes)/limTime.Seconds(), "limited-hashes/s")
			b.ReportMetric(median(ratios), "ratio")
			b.ReportMetric(float64(busy.Load()), "busy")
		})
	}
}

// median returns the median of xs, which resists the odd round that some
// other process on the machine disturbed.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// cheapResult is what a cheap load measured.
type cheapResult struct {
	count int
	lats  []time.Duration
	d     time.Duration
}

func (r *cheapResult) add(o cheapResult) {
	r.count += o.count
	r.lats = append(r.lats, o.lats...)
	r.d += o.d
}

func (r cheapResult) rate() float64 { return float64(r.count) / r.d.Seconds() }

func (r cheapResult) p99() time.Duration {
	if len(r.lats) == 0 {
		return 0
	}
	s := slices.Clone(r.lats)
	slices.Sort(s)
	return s[len(s)*99/100]
}

// cheapLoad runs clients closed-loop clients for d, each with a server
// goroutine that handles its requests: tracked by l, doing the cheap work.
// Requests and replies travel through pipes, so that, as with HTTP over
// TCP, every wake-up goes through the network poller and needs a free core
// or the end of a scheduler slice; channels would hand the core over
// directly and hide the cost of a core held by a hash. Latency is from the
// client's send to its receipt of the reply.
func (bb *bench) cheapLoad(tb testing.TB, l *Limiter, clients int, d time.Duration) cheapResult {
	tb.Helper()
	var (
		mu  sync.Mutex
		res = cheapResult{d: d}
		wg  sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	for range clients {
		reqR, reqW, err := os.Pipe()
		if err != nil {
			tb.Fatal(err)
		}
		repR, repW, err := os.Pipe()
		if err != nil {
			tb.Fatal(err)
		}
		wg.Go(func() { // server
			defer repW.Close()
			var buf [1]byte
			for {
				if _, err := reqR.Read(buf[:]); err != nil {
					reqR.Close()
					return
				}
				done := l.Track()
				bb.sink.Add(uint32(spin(bb.cheapIters)))
				done()
				if _, err := repW.Write(buf[:]); err != nil {
					tb.Error(err)
					return
				}
			}
		})
		wg.Go(func() { // client
			defer repR.Close()
			var lats []time.Duration
			buf := []byte{'?'}
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if _, err := reqW.Write(buf); err != nil {
					tb.Error(err)
					break
				}
				if _, err := repR.Read(buf); err != nil {
					tb.Error(err)
					break
				}
				lats = append(lats, time.Since(t0))
			}
			reqW.Close()
			mu.Lock()
			res.count += len(lats)
			res.lats = append(res.lats, lats...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return res
}

// flood sends logins to l at rate per second until stop is closed, each a
// new goroutine as a request from a new address would be, and returns how
// many were hashed and refused once all have returned.
func (bb *bench) flood(l *Limiter, rate float64, stop <-chan struct{}) (hashed, busy int64) {
	var (
		wg      sync.WaitGroup
		ok, bsy atomic.Int64
	)
	t := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer t.Stop()
	for {
		select {
		case <-stop:
			wg.Wait()
			return ok.Load(), bsy.Load()
		case <-t.C:
			wg.Go(func() {
				switch err := bb.login(l); {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, ErrBusy):
					bsy.Add(1)
				}
			})
		}
	}
}

func BenchmarkCheapUnderFlood(b *testing.B) {
	bb := newBench(b)
	procs := runtime.GOMAXPROCS(0)
	for _, p := range []struct {
		name    string
		opts    Options
		clients int
	}{
		{"adaptive/clients=4", Options{}, cheapClients},
		{"adaptive/clients=1", Options{}, 1},
		{"adaptive-nolinger/clients=1", Options{Linger: -1}, 1},
		{fmt.Sprintf("fixed=%d/clients=4", procs), Options{MinInFlight: procs}, cheapClients},
	} {
		b.Run(p.name, func(b *testing.B) {
			var (
				alone, loaded cheapResult
				capacity      float64
				hashed, busy  int64
				ratios        []float64
			)
			l := New(p.opts)
			for range b.N * rounds {
				c := float64(3*procs) / bb.timeRaw(3*procs).Seconds()
				capacity += c

				a := bb.cheapLoad(b, l, p.clients, measureFor)

				stop := make(chan struct{})
				var h, bz int64
				var fwg sync.WaitGroup
				fwg.Go(func() { h, bz = bb.flood(l, floodFactor*c, stop) })
				// Let the flood fill the queue and reach a steady state.
				time.Sleep(warmFor)
				f := bb.cheapLoad(b, l, p.clients, measureFor)
				close(stop)
				fwg.Wait()
				alone.add(a)
				loaded.add(f)
				ratios = append(ratios, f.rate()/a.rate())
				hashed += h
				busy += bz
			}
			b.ReportMetric(capacity/float64(b.N*rounds), "hash-capacity/s")
			b.ReportMetric(alone.rate(), "cheap-alone/s")
			b.ReportMetric(loaded.rate(), "cheap-flood/s")
			b.ReportMetric(median(ratios), "ratio")
			b.ReportMetric(float64(alone.p99().Microseconds())/1000, "p99-alone-ms")
			b.ReportMetric(float64(loaded.p99().Microseconds())/1000, "p99-flood-ms")
			b.ReportMetric(float64(busy)/float64(busy+hashed), "busy-fraction")
		})
	}
}
