package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/twostep/twostep/store"
)

// Roles a user may hold. A role name is part of the API (enum Role).
var knownRoles = []string{store.RoleAdmin}

// MaxPage is the most items one page of a list holds.
const MaxPage = 100

func errForbidden() error {
	return &Error{Code: CodeForbidden, Message: "You do not have permission to do this."}
}

// HasRole reports, by an *Error with CodeForbidden, whether p's user does
// not hold role, reading the roles afresh: revoking a role takes effect at
// the next request.
func (s *Service) HasRole(ctx context.Context, p *Principal, role string) error {
	roles, err := s.store.UserRoles(ctx, p.User.ID)
	if err != nil {
		return storeErr(err)
	}
	if !slices.Contains(roles, role) {
		s.log.InfoContext(ctx, "forbidden", "user_id", p.User.ID, "role", role)
		return errForbidden()
	}
	return nil
}

// UserRoles returns the roles of a user, sorted.
func (s *Service) UserRoles(ctx context.Context, userID string) ([]string, error) {
	roles, err := s.store.UserRoles(ctx, userID)
	if err != nil {
		return nil, storeErr(err)
	}
	return roles, nil
}

// SetUserRoles replaces the roles of userID; admin is the administrator
// doing it.
func (s *Service) SetUserRoles(ctx context.Context, admin *Principal, userID string, roles []string) (*User, error) {
	for _, r := range roles {
		if !slices.Contains(knownRoles, r) {
			return nil, &Error{Code: CodeBadUserInput, Field: "roles", Message: "Roles must be among " + strings.Join(knownRoles, ", ") + "."}
		}
	}
	id, ok := parseID(userID)
	if !ok {
		return nil, &Error{Code: CodeBadUserInput, Field: "userId", Message: "There is no such user."}
	}
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, &Error{Code: CodeBadUserInput, Field: "userId", Message: "There is no such user.", Err: err}
		}
		return nil, storeErr(err)
	}
	roles = slices.Compact(slices.Sorted(slices.Values(roles)))
	before, err := s.store.UserRoles(ctx, u.ID)
	if err != nil {
		return nil, storeErr(err)
	}
	if slices.Equal(before, roles) {
		return userOf(u), nil // nothing changes, nothing to record
	}
	if err := s.store.SetUserRoles(ctx, u.ID, roles, s.now()); err != nil {
		return nil, storeErr(err)
	}
	by := "administrator " + admin.User.ID
	s.log.InfoContext(ctx, "roles changed", "user_id", u.ID, "roles", roles, "by", by)
	s.adminEvent(ctx, admin, EventRolesChanged, u.ID, "roles now ["+strings.Join(roles, ", ")+"], set by "+by,
		"set the roles of "+u.ID+" to ["+strings.Join(roles, ", ")+"]")
	return userOf(u), nil
}

// adminEvent records what an administrator did to a user twice: as the
// user's event (typ, without the administrator's address or agent), and as
// an ADMIN_ACTION of the administrator's own, so auditEvents(userId: the
// administrator) lists what they did. What they do to themselves is one
// event.
func (s *Service) adminEvent(ctx context.Context, admin *Principal, typ, userID, detail, action string) {
	if admin.User.ID == userID {
		s.event(ctx, typ, userID, detail)
		return
	}
	s.event(context.WithValue(ctx, onBehalfKey{}, true), typ, userID, detail)
	s.event(ctx, EventAdminAction, admin.User.ID, action)
}

// DeleteUser deletes userID and everything that is theirs, for an
// administrator (support). It returns BAD_USER_INPUT at userId for an id
// that is no user's.
func (s *Service) DeleteUser(ctx context.Context, admin *Principal, userID string) error {
	id, ok := parseID(userID)
	if !ok {
		return &Error{Code: CodeBadUserInput, Field: "userId", Message: "There is no such user."}
	}
	if err := s.store.DeleteUser(ctx, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return &Error{Code: CodeBadUserInput, Field: "userId", Message: "There is no such user.", Err: err}
		}
		return storeErr(err)
	}
	s.log.InfoContext(ctx, "account deleted by an administrator", "user_id", id, "by", admin.User.ID)
	s.adminEvent(ctx, admin, EventAccountDeleted, id, "deleted by administrator "+admin.User.ID, "deleted user "+id)
	return nil
}

// RevokeUserSessions ends every session of userID, for an administrator.
func (s *Service) RevokeUserSessions(ctx context.Context, admin *Principal, userID string) (int, error) {
	userID, ok := parseID(userID)
	if !ok {
		return 0, nil // no such user, no sessions
	}
	n, err := s.store.RevokeSessions(ctx, userID, store.SessionMatch{}, s.now())
	if err != nil {
		return 0, storeErr(err)
	}
	s.log.InfoContext(ctx, "sessions revoked by an administrator", "user_id", userID, "by", admin.User.ID, "revoked", n)
	if n > 0 {
		s.adminEvent(ctx, admin, EventLogout, userID, strconv.Itoa(n)+" sessions ended by administrator "+admin.User.ID,
			"ended "+strconv.Itoa(n)+" sessions of "+userID)
	}
	return n, nil
}

// UserPage is one page of users.
type UserPage struct {
	Users       []*User
	Roles       [][]string // of each user, sorted, read with the page
	Cursors     []string   // of each user, for after
	HasNextPage bool
	TotalCount  int
}

// ListUsers lists users by creation, first at a time after the cursor,
// whose email or phone starts with query.
func (s *Service) ListUsers(ctx context.Context, first int, after, query string) (*UserPage, error) {
	first, cur, err := page(first, after)
	if err != nil {
		return nil, err
	}
	if strings.ContainsRune(query, 0) {
		return &UserPage{}, nil // no email or number holds a NUL (and PostgreSQL refuses one in text)
	}
	// The query is the start of an email, or of a number: typed the way
	// people type numbers (4155550101, +1 415…), it is read as one.
	q := store.UserQuery{EmailPrefix: strings.ToLower(strings.TrimSpace(query))}
	q.PhonePrefix = q.EmailPrefix
	if e164, ok := s.phones.Parse(query); ok {
		q.PhonePrefix = e164
	}
	list, err := s.store.ListUsers(ctx, q, cur, first+1)
	if err != nil {
		return nil, storeErr(err)
	}
	total, err := s.store.CountUsers(ctx, q)
	if err != nil {
		return nil, storeErr(err)
	}
	more := len(list) > first
	list = list[:min(first, len(list))]
	ids := make([]string, len(list))
	for i, u := range list {
		ids[i] = u.ID
	}
	roles, err := s.store.RolesOf(ctx, ids) // one read for the page, not one per user
	if err != nil {
		return nil, storeErr(err)
	}
	p := &UserPage{HasNextPage: more, TotalCount: total}
	for _, u := range list {
		p.Users = append(p.Users, userOf(u))
		p.Roles = append(p.Roles, append([]string{}, roles[u.ID]...))
		p.Cursors = append(p.Cursors, encodeCursor(store.Cursor{At: u.CreatedAt, ID: u.ID}))
	}
	return p, nil
}

// EventInfo is a security event as people see it.
type EventInfo struct {
	ID        string
	At        time.Time
	Type      string
	UserID    string
	IPAddress string
	UserAgent string
	Detail    string
}

// EventPage is one page of events, newest first.
type EventPage struct {
	Events      []EventInfo
	Cursors     []string
	HasNextPage bool
}

// SecurityEvents lists p's own events.
func (s *Service) SecurityEvents(ctx context.Context, p *Principal, first int, after string) (*EventPage, error) {
	return s.listEvents(ctx, p.User.ID, first, after)
}

// AuditEvents lists everyone's events (userID nil), or one user's, for an
// administrator.
func (s *Service) AuditEvents(ctx context.Context, first int, after string, userID *string) (*EventPage, error) {
	if userID == nil {
		return s.listEvents(ctx, "", first, after)
	}
	id, ok := parseID(*userID)
	if !ok {
		if _, _, err := page(first, after); err != nil {
			return nil, err
		}
		return &EventPage{}, nil // no such user (an empty id included), no events
	}
	return s.listEvents(ctx, id, first, after)
}

func (s *Service) listEvents(ctx context.Context, userID string, first int, after string) (*EventPage, error) {
	first, cur, err := page(first, after)
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListEvents(ctx, userID, cur, first+1)
	if err != nil {
		return nil, storeErr(err)
	}
	p := &EventPage{HasNextPage: len(list) > first}
	for _, e := range list[:min(first, len(list))] {
		p.Events = append(p.Events, EventInfo{ID: e.ID, At: e.At, Type: e.Type, UserID: e.UserID,
			IPAddress: e.IPAddress, UserAgent: e.UserAgent, Detail: e.Detail})
		p.Cursors = append(p.Cursors, encodeCursor(store.Cursor{At: e.At, ID: e.ID}))
	}
	return p, nil
}

// page checks first (1 to MaxPage; more is capped) and decodes after.
func page(first int, after string) (int, store.Cursor, error) {
	if first < 1 {
		return 0, store.Cursor{}, &Error{Code: CodeBadUserInput, Field: "first", Message: "First must be at least 1."}
	}
	first = min(first, MaxPage)
	if after == "" {
		return first, store.Cursor{}, nil
	}
	c, ok := decodeCursor(after)
	if !ok {
		return 0, store.Cursor{}, &Error{Code: CodeBadUserInput, Field: "after", Message: "After is not a cursor from this list."}
	}
	return first, c, nil
}

// Cursors are opaque to clients: base64url of "<unix ms>.<id>".
func encodeCursor(c store.Cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.At.UnixMilli(), 10) + "." + c.ID))
}

func decodeCursor(s string) (store.Cursor, bool) {
	if len(s) > 200 {
		return store.Cursor{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return store.Cursor{}, false
	}
	ms, id, ok := strings.Cut(string(b), ".")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil {
		return store.Cursor{}, false
	}
	if id, ok = parseID(id); !ok {
		return store.Cursor{}, false
	}
	return store.Cursor{At: time.UnixMilli(n).UTC(), ID: id}, true
}

// parseID reads the id of a user, event or session, which twostep makes
// (UUIDs), in the spelling stored, or reports that s is none: an id from a
// client is checked before it reaches the store, where PostgreSQL would
// refuse a NUL as an internal error.
func parseID(s string) (string, bool) {
	id, err := uuid.Parse(s)
	if err != nil {
		return "", false
	}
	return id.String(), true
}
