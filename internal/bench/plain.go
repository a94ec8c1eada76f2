package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// plain is the reference: the bare net/http handler one would write for
// `me` without twostep, straight on golang-jwt and database/sql with the
// same driver. It checks the access token as twostep's contract says (the
// algorithm pinned, typ at+jwt, iss, aud, exp required, 30 s leeway) on
// every request, reads the user and checks the session in the same one
// query twostep makes, from a prepared statement, and writes the same JSON.
type plain struct {
	db     *sql.DB
	stmt   *sql.Stmt
	parser *jwt.Parser
	key    any
	alg    string
}

func newPlain(ctx context.Context, dbURL, keys string) (*plain, error) {
	path, ok := strings.CutPrefix(dbURL, "sqlite:")
	if !ok {
		return nil, fmt.Errorf("bench: plain server needs a sqlite: URL, got %q", dbURL)
	}
	p := &plain{alg: "HS256", key: []byte(secret)}
	if keys != "" {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal([]byte(keys), &set); err != nil || len(set.Keys) != 1 {
			return nil, fmt.Errorf("bench: plain server keys: %v", err)
		}
		pub := set.Keys[0].Public()
		p.alg, p.key = set.Keys[0].Algorithm, pub.Key
	}
	db, err := sql.Open("sqlite", path+"?_pragma=query_only(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	p.db = db
	p.stmt, err = db.PrepareContext(ctx, `SELECT u.id, u.email, u.phone, u.phone_verified, u.created_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id = $2 AND s.user_id = $1 AND s.revoked_at IS NULL AND s.expires_at > $3 AND s.idle_expires_at > $3`)
	if err != nil {
		db.Close()
		return nil, err
	}
	p.parser = jwt.NewParser(jwt.WithValidMethods([]string{p.alg}), jwt.WithIssuer("twostep"), jwt.WithAudience("twostep"),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(30*time.Second))
	return p, nil
}

func (p *plain) close() {
	p.stmt.Close()
	p.db.Close()
}

// Serve serves the handler on ln until ctx ends.
func (p *plain) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (p *plain) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	type user struct {
		ID            string    `json:"id"`
		Email         string    `json:"email"`
		Phone         string    `json:"phone"`
		PhoneVerified bool      `json:"phoneVerified"`
		CreatedAt     time.Time `json:"createdAt"`
	}
	type response struct {
		Data struct {
			Me user `json:"me"`
		} `json:"data"`
	}
	var claims struct {
		jwt.RegisteredClaims
		SID string `json:"sid"`
	}
	_, err := p.parser.ParseWithClaims(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), &claims, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); typ != "at+jwt" {
			return nil, errors.New("not an access token")
		}
		return p.key, nil
	})
	if err != nil {
		http.Error(w, `{"errors":[{"message":"unauthenticated"}]}`, http.StatusUnauthorized)
		return
	}
	var resp response
	var created int64
	u := &resp.Data.Me
	err = p.stmt.QueryRowContext(r.Context(), claims.Subject, claims.SID, time.Now().UnixMilli()).Scan(&u.ID, &u.Email, &u.Phone, &u.PhoneVerified, &created)
	if err != nil {
		http.Error(w, `{"errors":[{"message":"internal"}]}`, http.StatusInternalServerError)
		return
	}
	u.CreatedAt = time.UnixMilli(created).UTC()
	b, _ := json.Marshal(resp)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
