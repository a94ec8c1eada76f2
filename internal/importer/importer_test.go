package importer_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/twostep/twostep/auth/input"
	"github.com/twostep/twostep/internal/importer"
	"github.com/twostep/twostep/store"
	"github.com/twostep/twostep/store/memstore"
	"github.com/twostep/twostep/store/sqlstore"
	"github.com/twostep/twostep/store/storetest"
)

var now = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

// hash is a real bcrypt hash at the lowest cost.
var hash = func() string {
	h, err := bcrypt.GenerateFromPassword([]byte("correct horse battery staple 7"), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
}()

const testNumber = "+15005550006" // not a mobile number: only as a test number

func options(tb testing.TB, s importer.Store, report *strings.Builder) importer.Options {
	tb.Helper()
	phones, err := input.NewPhones("US", []int{1})
	if err != nil {
		tb.Fatal(err)
	}
	return importer.Options{Store: s, Phones: phones, BatchSize: 3, Now: func() time.Time { return now },
		TestNumber: func(e string) bool { return e == testNumber }, Report: report}
}

func userLine(email, phone string, verified bool, extra string) string {
	return fmt.Sprintf(`{"email":%q,"phone":%q,"password_hash":%q,"phone_verified":%v%s}`, email, phone, hash, verified, extra)
}

// TestImportLines: every refused line is reported by its number with its
// reason, and the others are imported, across batches.
func TestImportLines(t *testing.T) {
	s := memstore.New()
	existing := &store.User{ID: "old", Email: "old@example.com", PasswordHash: hash, Phone: "+14155550100", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateUser(t.Context(), existing); err != nil {
		t.Fatal(err)
	}
	lines := []string{
		1:  userLine("Ada@Example.com ", "+1 415 555 0101", true, `,"created_at":"2020-01-02T03:04:05.678+01:00"`),
		2:  `{"email":"broken@example.com",`,
		3:  userLine("not an email", "+14155550102", false, ""),
		4:  userLine("phone@example.com", "123", false, ""),
		5:  `{"email":"hash@example.com","phone":"+14155550103","password_hash":"secret"}`,
		6:  userLine("ada@example.com", "+14155550104", false, ""),
		7:  userLine("taken@example.com", "+14155550101", true, ""),
		8:  "   ",
		9:  userLine("field@example.com", "+14155550105", false, `,"phoneVerified":true`),
		10: userLine("date@example.com", "+14155550106", false, `,"created_at":"yesterday"`),
		11: userLine("future@example.com", "+14155550107", false, `,"created_at":"2031-05-07T00:00:00Z"`),
		12: `{"email":"cost@example.com","phone":"+14155550108","password_hash":"` + strings.Replace(hash, "$04$", "$03$", 1) + `"}`,
		13: userLine("national@example.com", "(415) 555-0109", false, ""),
		14: userLine("old@example.com", "+14155550110", true, ""),
		15: `{"email":"y@example.com","phone":"+14155550111","password_hash":"` + strings.Replace(hash, "$2a$", "$2y$", 1) + `"}`,
		16: userLine("uk@example.com", "+447400123456", false, ""),
		17: userLine("test@example.com", testNumber, true, ""),
		18: `{"email":"x@example.com","phone":"+14155550112","password_hash":"` + strings.Replace(hash, "$2a$", "$2x$", 1) + `"}`,
		19: userLine("unverified@example.com", "+14155550101", false, ""),
		20: `{"email":"","phone":"","password_hash":""}`,
		21: userLine("two@example.com", "+14155550113", false, "") + ` {}`,
		22: userLine("free@example.com", "+14155550100", true, ""), // the existing account has not verified it
	}
	var report strings.Builder
	sum, err := importer.Import(t.Context(), strings.NewReader(strings.Join(lines[1:], "\n")), options(t, s, &report))
	if err != nil {
		t.Fatalf("Import() = %v", err)
	}
	want := []string{
		"line 2: refused: not a JSON object of the import's fields: unexpected EOF",
		"line 3: refused: email: must be a valid email address",
		"line 4: refused: phone: must be a valid mobile number in international form, e.g. +14155550123",
		"line 5: refused: password_hash: must be a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters)",
		"line 6: refused: email: already on an earlier line",
		"line 9: refused: not a JSON object of the import's fields: unknown field \"phoneVerified\"",
		"line 10: refused: created_at: must be an RFC 3339 time such as 2024-05-06T07:08:09Z",
		"line 11: refused: created_at: is in the future",
		"line 12: refused: password_hash: must be a bcrypt hash with a cost from 4 to 31",
		"line 16: refused: phone: must be from a supported country",
		"line 18: refused: password_hash: must be a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters)",
		"line 20: refused: email: is required; phone: is required; password_hash: is required",
		"line 21: refused: more than one JSON value on the line",
		// The store's verdicts come per batch, after the lines read before.
		"line 7: refused: phone: another account has verified this number",
		"line 14: skipped: an account with this email exists",
		"line 19: refused: phone: another account has verified this number",
	}
	got := strings.Split(strings.TrimSpace(report.String()), "\n")
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("report:\n%s\nwant (in any order):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if w := (importer.Summary{Lines: 22, Imported: 5, Skipped: 1, Refused: 15}); sum != w {
		t.Errorf("Import() = %+v, want %+v", sum, w)
	}
	ada, err := s.UserByEmail(t.Context(), "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if ada.Phone != "+14155550101" || !ada.PhoneVerified || ada.PasswordHash != hash ||
		!ada.CreatedAt.Equal(time.Date(2020, 1, 2, 2, 4, 5, 678e6, time.UTC)) || !ada.UpdatedAt.Equal(now) {
		t.Errorf("imported user = %+v", ada)
	}
	if id, _ := s.PhoneOwner(t.Context(), "+14155550101"); id != ada.ID {
		t.Errorf("PhoneOwner(ada's number) = %q, want %q", id, ada.ID)
	}
	for email, phone := range map[string]string{"national@example.com": "+14155550109", "y@example.com": "+14155550111",
		"test@example.com": testNumber, "free@example.com": "+14155550100"} {
		if u, err := s.UserByEmail(t.Context(), email); err != nil || u.Phone != phone || !u.CreatedAt.Equal(now) {
			t.Errorf("UserByEmail(%q) = %+v, %v, want phone %s created now", email, u, err, phone)
		}
	}
}

// TestImportLongLine: a line over the limit is refused, and the next one
// is read.
func TestImportLongLine(t *testing.T) {
	s := memstore.New()
	var report strings.Builder
	in := `{"email":"` + strings.Repeat("a", 70<<10) + "\n" + userLine("b@example.com", "+14155550101", false, "") + "\r\n"
	sum, err := importer.Import(t.Context(), strings.NewReader(in), options(t, s, &report))
	if err != nil || sum.Imported != 1 || sum.Refused != 1 || report.String() != "line 1: refused: longer than 65536 bytes\n" {
		t.Errorf("Import(long line) = %+v, %v; report %q", sum, err, report.String())
	}
}

// file returns n lines of valid, distinct users, every other one verified.
func file(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(userLine(fmt.Sprintf("user%d@example.com", i), fmt.Sprintf("+1415556%04d", i), i%2 == 0, ""))
		b.WriteByte('\n')
	}
	return b.String()
}

// forEachStore runs test on the in-memory store, SQLite and PostgreSQL.
func forEachStore(t *testing.T, test func(t *testing.T, s store.Store)) {
	for _, name := range []string{"memstore", "sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var s store.Store = memstore.New()
			if name != "memstore" {
				url := ""
				if name == "sqlite" {
					url = storetest.NewSQLite(t)
				} else {
					url = storetest.NewPostgres(t)
				}
				db, err := sqlstore.Open(t.Context(), url, sqlstore.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				s = db
			}
			test(t, s)
		})
	}
}

// TestImportTwice: a second run of the same file adds nothing and skips
// every line the first imported.
func TestImportTwice(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		in := file(10) + userLine("user3@example.com", "+14155550199", false, "") + "\n"
		for run, want := range []importer.Summary{
			{Lines: 11, Imported: 10, Refused: 1},
			{Lines: 11, Skipped: 10, Refused: 1},
		} {
			var report strings.Builder
			sum, err := importer.Import(t.Context(), strings.NewReader(in), options(t, s, &report))
			if err != nil || sum != want {
				t.Fatalf("Import() run %d = %+v, %v, want %+v", run+1, sum, err, want)
			}
			if !strings.Contains(report.String(), "line 11: refused: email: already on an earlier line") {
				t.Errorf("run %d report = %q, want line 11 refused", run+1, report.String())
			}
		}
		if n, _ := s.CountUsers(t.Context(), store.UserQuery{}); n != 10 {
			t.Errorf("CountUsers() = %d, want 10", n)
		}
	})
}

// failing is a store whose second batch fails part-way: it adds a user
// whose id is taken, written after the rest of the batch.
type failing struct {
	importer.Store
	clashID string
	calls   atomic.Int32
}

func (f *failing) ImportUsers(ctx context.Context, users []*store.User) ([]store.ImportResult, error) {
	if f.calls.Add(1) == 2 {
		users = append(slices.Clone(users), &store.User{ID: f.clashID, Email: "zzz@example.com", PasswordHash: hash,
			Phone: "+14155550199", CreatedAt: now, UpdatedAt: now})
	}
	return f.Store.ImportUsers(ctx, users)
}

// cancelling cancels the import's context during its second batch.
type cancelling struct {
	importer.Store
	cancel context.CancelFunc
	calls  atomic.Int32
}

func (c *cancelling) ImportUsers(ctx context.Context, users []*store.User) ([]store.ImportResult, error) {
	if c.calls.Add(1) == 2 {
		c.cancel()
	}
	return c.Store.ImportUsers(ctx, users)
}

// TestImportCrash: a batch that fails part-way, or an import cancelled
// during one, leaves the batches before it whole and nothing of its own:
// no user without the ownership of its verified number, no half batch.
func TestImportCrash(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		const batch, lines = 600, 1500 // over one statement's rows
		first := &store.User{ID: "first", Email: "first@example.com", PasswordHash: hash, Phone: "+14155550198", CreatedAt: now, UpdatedAt: now}
		if err := s.CreateUser(t.Context(), first); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		for _, st := range []importer.Store{&failing{Store: s, clashID: first.ID}, &cancelling{Store: s, cancel: cancel}} {
			var report strings.Builder
			o := options(t, st, &report)
			o.BatchSize = batch
			sum, err := importer.Import(ctx, strings.NewReader(file(lines)), o)
			if err == nil {
				t.Fatalf("Import(%T) = %+v, nil, want an error", st, sum)
			}
			if sum.Imported != batch && sum.Skipped != batch {
				t.Errorf("Import(%T) = %+v, %v, want the first batch only", st, sum, err)
			}
			if _, ok := st.(*failing); ok && !strings.Contains(err.Error(), "lines 601 to 1200, none of them written") {
				t.Errorf("Import(failing store) = %v, want it to name the lines not written", err)
			}
		}
		if n, _ := s.CountUsers(t.Context(), store.UserQuery{EmailPrefix: "user"}); n != batch {
			t.Errorf("CountUsers() after the failed imports = %d, want %d", n, batch)
		}
		for i := range lines {
			email, phone := fmt.Sprintf("user%d@example.com", i), fmt.Sprintf("+1415556%04d", i)
			u, err := s.UserByEmail(context.Background(), email)
			switch {
			case i < batch && err != nil:
				t.Fatalf("UserByEmail(%s, of the first batch) = %v", email, err)
			case i >= batch && !errors.Is(err, store.ErrNotFound):
				t.Fatalf("UserByEmail(%s, of a failed batch) = %+v, %v, want %v", email, u, err, store.ErrNotFound)
			}
			id, err := s.PhoneOwner(context.Background(), phone)
			if u != nil && u.PhoneVerified && id != u.ID {
				t.Fatalf("PhoneOwner(%s) = %q, %v, want the imported user %q", phone, id, err, u.ID)
			}
			if u == nil && err == nil {
				t.Fatalf("PhoneOwner(%s) = %q, an owner that was not imported", phone, id)
			}
		}
	})
}

// TestImportRepeats: a line whose email an earlier line brought in,
// imported or skipped, is refused; one after a line refused for another
// reason is imported.
func TestImportRepeats(t *testing.T) {
	s := memstore.New()
	if err := s.CreateUser(t.Context(), &store.User{ID: "old", Email: "old@example.com", Phone: "+14155550100", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	in := strings.Join([]string{
		userLine("old@example.com", "+14155550101", false, ""),
		userLine("new@example.com", "+14155550102", false, ""),
		userLine("late@example.com", "123", false, ""),
		userLine("OLD@example.com", "+14155550103", false, ""),
		userLine("new@example.com", "+14155550104", false, ""),
		userLine("late@example.com", "+14155550105", false, ""),
	}, "\n")
	var report strings.Builder
	o := options(t, s, &report)
	o.BatchSize = 1000
	sum, err := importer.Import(t.Context(), strings.NewReader(in), o)
	want := "line 3: refused: phone: must be a valid mobile number in international form, e.g. +14155550123\n" +
		"line 1: skipped: an account with this email exists\n" +
		"line 4: refused: email: already on an earlier line\n" +
		"line 5: refused: email: already on an earlier line\n"
	if err != nil || sum != (importer.Summary{Lines: 6, Imported: 2, Skipped: 1, Refused: 3}) || report.String() != want {
		t.Errorf("Import() = %+v, %v, report:\n%s\nwant:\n%s", sum, err, report.String(), want)
	}
	if u, err := s.UserByEmail(t.Context(), "late@example.com"); err != nil || u.Phone != "+14155550105" {
		t.Errorf("UserByEmail(late) = %+v, %v, want line 6's", u, err)
	}
}
