package bench

// The fixtures of Scale: the generated users, the databases, the requests,
// and the server processes.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/store"
	"github.com/twostep/twostep/store/sqlstore"
)

// userEmail and userPhone name generated user i: distinct, valid US
// mobile-style numbers for up to eight million users.
func userEmail(i int) string { return "user" + strconv.Itoa(i) + "@scale.example.com" }

func userPhone(i int) string { return fmt.Sprintf("+1415%03d%04d", 200+i/10000, i%10000) }

// writeUsers writes the import file of n users, every number verified.
func writeUsers(path string, n int, hash string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	created := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		fmt.Fprintf(w, `{"email":%q,"phone":%q,"password_hash":%q,"phone_verified":true,"created_at":%q}`+"\n",
			userEmail(i), userPhone(i), hash, created.Add(time.Duration(i)*time.Second).Format(time.RFC3339))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// freshDatabase returns the URL of an empty database and a function that
// removes it.
func freshDatabase(ctx context.Context, o ScaleOptions, dir string, n int) (string, func(), error) {
	if o.Dialect == "sqlite" {
		path := filepath.Join(dir, fmt.Sprintf("scale-%d.db", n))
		return "sqlite:" + path, func() {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				_ = os.Remove(path + suffix)
			}
		}, nil
	}
	u, err := url.Parse(o.Postgres)
	if err != nil {
		return "", nil, errors.New("postgres URL does not parse")
	}
	name := fmt.Sprintf("twostep_scale_%d_%d", n, rand.Uint32())
	exec := func(ctx context.Context, sql string) error {
		conn, err := pgx.Connect(ctx, o.Postgres)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u.Path = "/" + name
	return u.String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}, nil
}

// scaleRequests builds the me requests (a live session and an access
// token for each of a thousand users picked at random) and the login
// requests (another thousand) of n imported users. The numbers of the
// latter become test numbers (SMS_TEST_NUMBERS): their codes are not
// sent, so a login is all of twostep's work and the database's but not a
// provider's, whose limit of 5 sends a number would stop the load.
func scaleRequests(ctx context.Context, dbURL string, n int) (me, login [][]byte, testNumbers string, err error) {
	keys, err := auth.NewSigningKeys(nil, []byte(secret))
	if err != nil {
		return nil, nil, "", err
	}
	tokens, err := auth.NewTokens(auth.TokenConfig{Keys: keys, Issuer: "twostep", Audience: "twostep", TTL: time.Hour})
	if err != nil {
		return nil, nil, "", err
	}
	db, err := sqlstore.Open(ctx, dbURL, sqlstore.Options{})
	if err != nil {
		return nil, nil, "", err
	}
	defer db.Close()
	now := time.Now().UTC().Truncate(time.Millisecond)
	rng := rand.New(rand.NewPCG(uint64(n), 1))
	k := min(n, 1000)
	for range k {
		u, err := db.UserByEmail(ctx, userEmail(rng.IntN(n)))
		if err != nil {
			return nil, nil, "", err
		}
		sid := uuid.Must(uuid.NewV7()).String()
		err = db.CreateSession(ctx, &store.Session{ID: sid, UserID: u.ID, Secret: []byte("bench"), RotatedAt: now, AMR: "pwd,sms,mfa",
			CreatedAt: now, LastUsedAt: now, IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)})
		if err != nil {
			return nil, nil, "", err
		}
		token, _, err := tokens.Issue(u.ID, sid, []string{"pwd", "sms", "mfa"}, time.Time{})
		if err != nil {
			return nil, nil, "", err
		}
		me = append(me, post("", meQuery, token))
	}
	var numbers []string
	for range k {
		i := rng.IntN(n)
		body, _ := json.Marshal(map[string]any{"query": loginQuery,
			"variables": map[string]string{"email": userEmail(i), "password": benchPassword}})
		login = append(login, post("", string(body), ""))
		numbers = append(numbers, userPhone(i)+"=123456")
	}
	return me, login, "SMS_TEST_NUMBERS=" + strings.Join(numbers, ","), nil
}

// post is an HTTP/1.1 request of /graphql; the host is filled in later.
func post(host, body, bearer string) []byte {
	auth := ""
	if bearer != "" {
		auth = "Authorization: Bearer " + bearer + "\r\n"
	}
	return fmt.Appendf(nil, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s",
		host, auth, len(body), body)
}

// scaleEnv is the server's environment beyond DATABASE_URL: the real
// server, configured as for development, with the bcrypt cost of the
// generated hashes (so no login re-hashes) and the limits out of the way
// of one client sending thousands of logins.
var scaleEnv = []string{
	"APP_ENV=development", "HOST=127.0.0.1", "PORT=0", "LOG_LEVEL=error", "JWT_SECRET=" + secret, "BCRYPT_COST=4",
	"LIMIT_REGISTER_PER_IP=0", "LIMIT_LOGIN_PER_IP=0", "LIMIT_VERIFY_PER_IP=0", "LIMIT_REFRESH_PER_IP=0",
	"LIMIT_ACCOUNT_FREE_FAILURES=1000", "LIMIT_PHONE_COOLDOWN=0", "LIMIT_PHONE_PER_HOUR=1000000",
	"LIMIT_PHONE_PER_DAY=1000000", "LIMIT_SMS_PER_HOUR=1000000000", "LIMIT_SMS_UNVERIFIED_PER_HOUR=1000000000",
	"LIMIT_SMS_PER_COUNTRY_PER_HOUR=0", "LIMIT_UNVERIFIED_SENDS_PER_DAY=1000000",
	"TWILIO_ACCOUNT_SID=", "TWILIO_AUTH_TOKEN=", "TWILIO_VERIFY_SID=", "TWILIO_API_URL=",
}

type server struct {
	addr string
	pid  int
	stop func()
}

// startServer runs `twostep` on a loopback port and waits for it to
// listen.
func startServer(ctx context.Context, o ScaleOptions, env []string) (*server, error) {
	cmd := o.Command("-env-file=")
	cmd.Env = append(append(os.Environ(), scaleEnv...), env...)
	logs := &tail{max: 16 << 10}
	cmd.Stderr = logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	br := bufio.NewReader(out)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			stop()
			return nil, fmt.Errorf("server did not start: %w\n%s", err, logs)
		}
		// "twostep listening on http://localhost:PORT/ (GraphQL at /graphql)"
		if _, rest, ok := strings.Cut(line, "listening on http://localhost:"); ok {
			port, _, _ := strings.Cut(rest, "/")
			go func() { _, _ = io.Copy(io.Discard, br) }() // the codes it prints
			return &server{addr: "127.0.0.1:" + port, pid: cmd.Process.Pid, stop: stop}, nil
		}
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s + "\n"
}

// tail keeps the last max bytes written to it: a child's log, shown only
// if it fails to start (a load that stops mid-request is logged as errors).
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
