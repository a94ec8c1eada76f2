package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/twostep/twostep/store"
)

// The types of security events, as SecurityEvent.type says them. A name
// is never changed or reused: people and tools filter on it.
const (
	EventUserRegistered         = "USER_REGISTERED"
	EventLoginSucceeded         = "LOGIN_SUCCEEDED" // the password was right; a code is being sent
	EventLoginFailed            = "LOGIN_FAILED"    // a wrong password (or an unknown email: no user)
	EventCodeSent               = "CODE_SENT"
	EventCodeFailed             = "CODE_FAILED" // a wrong code
	EventCodeDeliveryFailed     = "CODE_DELIVERY_FAILED"
	EventSignInCompleted        = "SIGN_IN_COMPLETED" // the right code: a session started
	EventSessionRefreshed       = "SESSION_REFRESHED"
	EventRefreshReuseDetected   = "REFRESH_REUSE_DETECTED"
	EventLogout                 = "LOGOUT"
	EventSessionRevoked         = "SESSION_REVOKED"
	EventPasswordResetRequested = "PASSWORD_RESET_REQUESTED"
	EventPasswordResetCompleted = "PASSWORD_RESET_COMPLETED"
	EventPasswordChanged        = "PASSWORD_CHANGED"
	EventPhoneChangeStarted     = "PHONE_CHANGE_STARTED"
	EventPhoneChangeConfirmed   = "PHONE_CHANGE_CONFIRMED"
	EventAccountDeleted         = "ACCOUNT_DELETED"
	EventRolesChanged           = "ROLES_CHANGED"
	EventRateLimited            = "RATE_LIMITED"
	EventPasswordCheckFailed    = "PASSWORD_CHECK_FAILED" // a wrong password asked again (a change, deletion)
	EventAdminAction            = "ADMIN_ACTION"          // on the administrator: what they did to whom
)

// EventTypes lists every event type (a test checks that the README
// documents each).
var EventTypes = []string{
	EventUserRegistered, EventLoginSucceeded, EventLoginFailed, EventCodeSent, EventCodeFailed,
	EventCodeDeliveryFailed, EventSignInCompleted, EventSessionRefreshed, EventRefreshReuseDetected,
	EventLogout, EventSessionRevoked, EventPasswordResetRequested, EventPasswordResetCompleted,
	EventPasswordChanged, EventPhoneChangeStarted, EventPhoneChangeConfirmed, EventAccountDeleted,
	EventRolesChanged, EventRateLimited, EventPasswordCheckFailed, EventAdminAction,
}

// eventBuffer is how many events may wait for the writer. A flood that
// outruns it loses events (counted, logged), never requests.
const (
	eventBuffer = 4096
	eventBatch  = 100
)

// event records a security event of typ for userID ("" if none), with the
// request's address and user agent. It never blocks and never fails the
// request: the event waits in a buffer for RunEvents.
func (s *Service) event(ctx context.Context, typ, userID, detail string) {
	s.eventKeyed(ctx, typ, userID, detail, "")
}

func (s *Service) eventKeyed(ctx context.Context, typ, userID, detail, dedup string) {
	ip, ua := s.requestInfo(ctx)
	if ctx.Value(onBehalfKey{}) != nil {
		ip, ua = "", "" // the administrator's, not the user's: recorded on the administrator's own event
	}
	e := &store.Event{
		ID: uuid.Must(uuid.NewV7()).String(), At: s.now(), Type: typ, UserID: userID,
		IPAddress: ip, UserAgent: cleanUserAgent(ua), Detail: strings.ToValidUTF8(detail, ""), DedupKey: dedup,
	}
	if s.syncEvents {
		if err := s.store.RecordEvents(context.WithoutCancel(ctx), []*store.Event{e}); err != nil {
			s.log.WarnContext(ctx, "security event not recorded", "type", typ, "err", err)
		}
		return
	}
	select {
	case s.events <- e:
	default:
		s.observer.EventsDropped(1)
		if s.dropLog.Allow() { // a flood must not flood the log too
			s.log.WarnContext(ctx, "security events dropped: the buffer is full (counted by twostep_security_events_dropped_total)", "type", typ)
		}
	}
}

// onBehalfKey marks a context in which an administrator acts on another
// user: that user's event does not get the administrator's address.
type onBehalfKey struct{}

// limitEvent records that limit was reached for key, once per window (its
// end): the key is kept only as a hash, since it may hold an address or a
// number.
func (s *Service) limitEvent(ctx context.Context, limit, key, userID string, windowEnd time.Time) {
	if !s.limitSeen.first(limit+key, windowEnd, s.now()) {
		return
	}
	h := sha256.Sum256([]byte(key))
	dedup := limit + ":" + hex.EncodeToString(h[:12]) + ":" + strconv.FormatInt(windowEnd.Unix(), 10)
	s.eventKeyed(ctx, EventRateLimited, userID, "limit "+limit+" reached until "+windowEnd.UTC().Format(time.RFC3339), dedup)
}

// RunEvents writes buffered events in batches until ctx ends, then writes
// what is left (for up to 5 seconds). Every replica runs it.
func (s *Service) RunEvents(ctx context.Context) {
	// Writes outlive ctx: an event taken from the buffer as ctx ends (the
	// select below picks either case when both are ready) is written, not
	// failed with the canceled context. The store's own timeout bounds
	// each write.
	write := context.WithoutCancel(ctx)
	batch := make([]*store.Event, 0, eventBatch)
	flush := func(ctx context.Context) {
		if len(batch) == 0 {
			return
		}
		if err := s.store.RecordEvents(ctx, batch); err != nil && len(batch) > 1 {
			// One bad event must not take its batch with it: one at a time.
			lost := 0
			for _, e := range batch {
				if err := s.store.RecordEvents(ctx, []*store.Event{e}); err != nil {
					lost++
					s.log.WarnContext(ctx, "security event not recorded", "type", e.Type, "err", err)
				}
			}
			s.observer.EventsDropped(lost)
		} else if err != nil {
			s.observer.EventsDropped(1)
			s.log.WarnContext(ctx, "security event not recorded", "type", batch[0].Type, "err", err)
		}
		batch = batch[:0]
	}
	for {
		select {
		case e := <-s.events:
			batch = append(batch, e)
		drain:
			for len(batch) < eventBatch {
				select {
				case e := <-s.events:
					batch = append(batch, e)
				default:
					break drain
				}
			}
			flush(write)
		case <-ctx.Done():
			final, cancel := context.WithTimeout(write, 5*time.Second)
			defer cancel()
			for {
				select {
				case e := <-s.events:
					batch = append(batch, e)
					if len(batch) == eventBatch {
						flush(final)
					}
				default:
					flush(final)
					return
				}
			}
		}
	}
}

// seenLimits remembers, per replica, which limit windows already have
// their event, so a flood of refusals sends one event to the store, not
// one per request; the store's dedup key makes it once across replicas.
// maxSeenLimits bounds the windows a replica remembers.
const maxSeenLimits = 10000

type seenLimits struct {
	mu   sync.Mutex
	ends map[string]time.Time
}

func (l *seenLimits) first(key string, end, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ends == nil || len(l.ends) >= maxSeenLimits {
		// Full (a flood of distinct keys): start over rather than prune
		// on every call. Forgetting costs at most a repeated event, which
		// the store's dedup key refuses anyway.
		l.ends = make(map[string]time.Time)
	}
	if e, ok := l.ends[key]; ok && !e.Before(end.Add(-time.Second)) && e.After(now) {
		return false
	}
	l.ends[key] = end
	return true
}

// oncePerSecond allows one thing a second, for log lines a flood repeats.
type oncePerSecond struct{ last atomic.Int64 }

func (o *oncePerSecond) Allow() bool {
	now := time.Now().Unix()
	last := o.last.Load()
	return last != now && o.last.CompareAndSwap(last, now)
}
