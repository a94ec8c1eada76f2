package emulator

import (
	"encoding/json"
	"fmt"
	"time"
)

// savedState is what a restart would lose: the pending verifications, the
// recent sends per number (the send limit) and the last code per number.
// Times are the emulator's own (Advance included).
type savedState struct {
	Pending []savedVerification    `json:"pending"`
	Sends   map[string][]time.Time `json:"sends"`
}

type savedVerification struct {
	SID, To, Channel, Code string
	Created, Updated       time.Time
	Checks                 int
	Attempts               []savedAttempt
}

type savedAttempt struct {
	SID, Channel string
	At           time.Time
}

// MarshalState returns the emulator's state as JSON, for RestoreState in
// the next process: twostep's development server keeps pending codes
// across restarts (hot reloads) this way. Failures and the request log are
// not kept.
func (e *Emulator) MarshalState() ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.nowLocked()
	s := savedState{Sends: map[string][]time.Time{}}
	for to := range e.pending {
		v := e.pendingLocked(to, now)
		if v == nil {
			continue
		}
		sv := savedVerification{SID: v.sid, To: v.to, Channel: v.channel, Code: v.code,
			Created: v.created, Updated: v.updated, Checks: v.checks}
		for _, a := range v.attempts {
			sv.Attempts = append(sv.Attempts, savedAttempt{SID: a.sid, Channel: a.channel, At: a.at})
		}
		s.Pending = append(s.Pending, sv)
	}
	for to, times := range e.sends {
		for _, t := range times {
			if now.Before(t.Add(sendWindow)) {
				s.Sends[to] = append(s.Sends[to], t)
			}
		}
	}
	return json.Marshal(s)
}

// RestoreState loads what MarshalState saved, over the current state.
// Expired verifications stay expired: the clock is the same.
func (e *Emulator) RestoreState(b []byte) error {
	var s savedState
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("emulator: restore state: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, sv := range s.Pending {
		v := &verification{sid: sv.SID, to: sv.To, channel: sv.Channel, code: sv.Code,
			created: sv.Created, updated: sv.Updated, checks: sv.Checks}
		for _, a := range sv.Attempts {
			v.attempts = append(v.attempts, attempt{sid: a.SID, channel: a.Channel, at: a.At})
		}
		e.pending[sv.To] = v
		e.lastSent[sv.To] = sentCode{code: sv.Code, sid: sv.SID}
	}
	for to, times := range s.Sends {
		e.sends[to] = append(e.sends[to], times...)
	}
	return nil
}
