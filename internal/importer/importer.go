// Package importer is `twostep import-users`: bringing accounts over from
// another system, from a JSON Lines file with one account a line and its
// bcrypt hash, under the rules of registration. It streams the file and
// writes in batches, one transaction each, so memory stays bounded and a
// crash leaves whole batches behind; importing a file again adds nothing.
package importer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/twostep/twostep/auth/input"
	"github.com/twostep/twostep/store"
)

// Store is what an import needs of the database.
type Store interface {
	ImportUsers(ctx context.Context, users []*store.User) ([]store.ImportResult, error)
}

// Options configure Import.
type Options struct {
	Store  Store
	Phones *input.Phones // PHONE_DEFAULT_REGION and SMS_ALLOWED_COUNTRY_CODES
	// TestNumber reports whether an E.164 number is a test number now,
	// which registers whatever its type or country (nil: none is).
	TestNumber func(e164 string) bool
	// BatchSize is the users of one transaction; default 1000.
	BatchSize int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Report receives a line for every line skipped or refused; nil
	// discards them.
	Report io.Writer
	// Progress, if set, is called after every batch.
	Progress func(Summary)
}

// Summary counts what an import did.
type Summary struct {
	Lines    int // read so far, blank ones included
	Imported int
	Skipped  int // the email had an account already
	Refused  int
}

func (s Summary) String() string {
	return fmt.Sprintf("imported %d, skipped %d (email exists), refused %d, of %d lines", s.Imported, s.Skipped, s.Refused, s.Lines)
}

// maxLine bounds one line: an account is a few hundred bytes.
const maxLine = 64 << 10

// line is one JSON Lines record. created_at is optional: without it, the
// account is created at the time of the import.
type line struct {
	Email         string `json:"email"`
	Phone         string `json:"phone"`
	PasswordHash  string `json:"password_hash"`
	PhoneVerified bool   `json:"phone_verified"`
	CreatedAt     string `json:"created_at"`
}

// Import reads JSON Lines from r and imports every valid line: it reports
// every skipped or refused line to o.Report by its number and returns the
// counts. It returns an error only if reading or the store fails; every
// batch written before stays written, so running it again resumes (the
// lines imported are skipped).
func Import(ctx context.Context, r io.Reader, o Options) (Summary, error) {
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Report == nil {
		o.Report = io.Discard
	}
	im := &importer{o: o, seen: newBloom()}
	br := bufio.NewReaderSize(r, maxLine)
	for {
		if err := ctx.Err(); err != nil {
			return im.sum, err
		}
		b, tooLong, err := readLine(br)
		if err == io.EOF && len(b) == 0 && !tooLong {
			break
		}
		if err != nil && err != io.EOF {
			return im.sum, fmt.Errorf("import: read line %d: %w", im.sum.Lines+1, err)
		}
		im.sum.Lines++
		if tooLong {
			im.refuse(im.sum.Lines, fmt.Sprintf("longer than %d bytes", maxLine))
		} else if err := im.add(ctx, b); err != nil {
			return im.sum, err
		}
		if err == io.EOF {
			break
		}
	}
	err := im.flush(ctx) // before reading sum, which flush adds to
	return im.sum, err
}

type importer struct {
	o     Options
	sum   Summary
	batch []*store.User
	lines []int  // of the users in batch
	again []bool // whether seen had the email of the user in batch
	// seen holds the emails of the valid lines read: a line whose email
	// the store has is refused if an earlier line had it too (the file
	// repeats itself), and skipped if not (the account was there).
	seen *bloom
}

// add parses one line into the batch, or refuses it; a full batch is
// written.
func (im *importer) add(ctx context.Context, b []byte) error {
	n := im.sum.Lines
	b = bytes.TrimSpace(b)
	if n == 1 {
		b = bytes.TrimPrefix(b, []byte("\ufeff"))
	}
	if len(b) == 0 {
		return nil
	}
	u, problems := im.parse(b)
	if len(problems) > 0 {
		im.refuse(n, strings.Join(problems, "; "))
		return nil
	}
	im.batch = append(im.batch, u)
	im.lines = append(im.lines, n)
	im.again = append(im.again, im.seen.add(u.Email))
	if len(im.batch) >= im.o.BatchSize {
		return im.flush(ctx)
	}
	return nil
}

// parse checks one line as registration checks its arguments, reporting
// every problem; none repeats a value, so the report is safe to share.
func (im *importer) parse(b []byte) (*store.User, []string) {
	var l line
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return nil, []string{"not a JSON object of the import's fields: " + strings.TrimPrefix(err.Error(), "json: ")}
	}
	if dec.More() {
		return nil, []string{"more than one JSON value on the line"}
	}
	var problems []string
	bad := func(field, reason string) { problems = append(problems, field+": "+reason) }
	email, err := input.Email(l.Email)
	if err != nil {
		bad("email", reason(err))
	}
	phone, err := im.phone(l.Phone)
	if err != nil {
		bad("phone", reason(err))
	}
	if err := checkHash(l.PasswordHash); err != nil {
		bad("password_hash", err.Error())
	}
	now := im.o.Now().UTC().Truncate(time.Millisecond)
	created := now
	if l.CreatedAt != "" {
		t, err := time.Parse(time.RFC3339, l.CreatedAt)
		switch {
		case err != nil:
			bad("created_at", "must be an RFC 3339 time such as 2024-05-06T07:08:09Z")
		case t.After(now):
			bad("created_at", "is in the future")
		default:
			created = t.UTC().Truncate(time.Millisecond)
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return &store.User{ID: uuid.Must(uuid.NewV7()).String(), Email: email, PasswordHash: l.PasswordHash,
		Phone: phone, PhoneVerified: l.PhoneVerified, CreatedAt: created, UpdatedAt: now}, nil
}

// phone is registration's rule: input.Phones's, but test numbers pass
// whatever their type or country.
func (im *importer) phone(raw string) (string, error) {
	if e164, ok := im.o.Phones.Parse(raw); ok && im.o.TestNumber != nil && im.o.TestNumber(e164) {
		return e164, nil
	}
	return im.o.Phones.Normalize(raw)
}

func reason(err error) string {
	var ie *input.Error
	if errors.As(err, &ie) {
		return ie.Reason
	}
	return err.Error()
}

// checkHash accepts a bcrypt hash ($2a$, $2b$ or $2y$, any cost) in its
// standard 60-character form.
func checkHash(h string) error {
	if h == "" {
		return errors.New("is required")
	}
	if len(h) != 60 || !(strings.HasPrefix(h, "$2a$") || strings.HasPrefix(h, "$2b$") || strings.HasPrefix(h, "$2y$")) || h[6] != '$' {
		return errors.New("must be a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters)")
	}
	if _, err := bcrypt.Cost([]byte(h)); err != nil {
		return fmt.Errorf("must be a bcrypt hash with a cost from %d to %d", bcrypt.MinCost, bcrypt.MaxCost)
	}
	for _, c := range h[7:] {
		if !(c == '.' || c == '/' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return errors.New("must be a bcrypt hash: salt and hash in bcrypt's base64")
		}
	}
	return nil
}

// flush writes the batch in one transaction and reports its lines.
func (im *importer) flush(ctx context.Context) error {
	if len(im.batch) == 0 {
		return nil
	}
	res, err := im.o.Store.ImportUsers(ctx, im.batch)
	if err != nil {
		return fmt.Errorf("import: lines %d to %d, none of them written: %w", im.lines[0], im.lines[len(im.lines)-1], err)
	}
	for i, r := range res {
		switch r {
		case store.ImportInserted:
			im.sum.Imported++
		case store.ImportEmailExists:
			if im.again[i] {
				im.refuse(im.lines[i], "email: already on an earlier line")
				continue
			}
			im.sum.Skipped++
			fmt.Fprintf(im.o.Report, "line %d: skipped: an account with this email exists\n", im.lines[i])
		case store.ImportPhoneTaken:
			im.refuse(im.lines[i], "phone: another account has verified this number")
		default:
			return fmt.Errorf("import: line %d: unexpected result %v", im.lines[i], r)
		}
	}
	im.batch, im.lines, im.again = im.batch[:0], im.lines[:0], im.again[:0]
	if im.o.Progress != nil {
		im.o.Progress(im.sum)
	}
	return nil
}

func (im *importer) refuse(n int, why string) {
	im.sum.Refused++
	fmt.Fprintf(im.o.Report, "line %d: refused: %s\n", n, why)
}

// readLine returns the next line without its end. tooLong reports a line
// over maxLine, which is read to its end and dropped.
func readLine(br *bufio.Reader) (b []byte, tooLong bool, err error) {
	b, err = br.ReadSlice('\n')
	for errors.Is(err, bufio.ErrBufferFull) {
		tooLong = true
		_, err = br.ReadSlice('\n')
	}
	if tooLong {
		return nil, true, err
	}
	return bytes.TrimSuffix(b, []byte("\n")), false, err
}

// bloom is a Bloom filter of 16 MiB, so an import's memory is the same
// for any length of file. It only tells a repeated line from an account
// that was there before, never whether a line is imported: a false
// positive (about one in ten million lines at a million, three in a
// thousand at ten million) reports such an account's line as a repeat.
type bloom struct {
	bits         []uint64
	seed1, seed2 maphash.Seed
}

const (
	bloomBits   = 1 << 27 // 16 MiB
	bloomHashes = 5
)

func newBloom() *bloom {
	// Pages the filter never touches are never resident.
	return &bloom{bits: make([]uint64, bloomBits/64), seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed()}
}

// add adds s and reports whether it was there already.
func (b *bloom) add(s string) bool {
	h1, h2 := maphash.String(b.seed1, s), maphash.String(b.seed2, s)|1
	had := true
	for i := range uint64(bloomHashes) {
		k := (h1 + i*h2) % bloomBits
		if w, bit := &b.bits[k/64], uint64(1)<<(k%64); *w&bit == 0 {
			*w |= bit
			had = false
		}
	}
	return had
}
