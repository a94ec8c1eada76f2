package emulator

import (
	"net/http"
	"strings"
	"time"
)

// The /_emulator/ endpoints let a human or a browser test see what a phone
// would have received, without a Go test's access to the Emulator.

// inspectCode is GET /_emulator/code?to=+14155550123.
func (e *Emulator) inspectCode(w http.ResponseWriter, r *http.Request) {
	to := r.URL.Query().Get("to")
	if rest, ok := strings.CutPrefix(to, " "); ok {
		to = "+" + rest // an unescaped + in a query string decodes as a space
	}
	e.mu.Lock()
	s, ok := e.lastSent[to]
	e.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no code sent to this number", "to": to})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"to": to, "code": s.code, "sid": s.sid})
}

// inspectRequests is GET /_emulator/requests.
func (e *Emulator) inspectRequests(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, e.Requests())
}

// inspectAdvance is POST /_emulator/advance?d=11m.
func (e *Emulator) inspectAdvance(w http.ResponseWriter, r *http.Request) {
	d, err := time.ParseDuration(r.URL.Query().Get("d"))
	if err != nil || d <= 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "d must be a positive duration, e.g. 11m"})
		return
	}
	e.Advance(d)
	writeJSON(w, http.StatusOK, map[string]string{"now": date(e.Now())})
}
