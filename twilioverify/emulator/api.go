package emulator

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/mail"
	"regexp"
	"strconv"
	"time"
)

// Twilio's own check of the To parameter for phone channels.
var e164 = regexp.MustCompile(`^\+[1-9]\d{1,14}$`)

// authenticate records every /v2 request, then lets through only those
// with the account's Basic-auth credentials, as Twilio checks them first.
func (e *Emulator) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		formErr := r.ParseForm()
		user, pass, ok := r.BasicAuth()
		e.record(Request{Method: r.Method, Path: r.URL.Path, Form: cloneValues(r.Form), User: user})

		if !ok || !equal(user, e.accountSID) || !equal(pass, e.authToken) {
			w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
			writeError(w, 20003, 0, "")
			return
		}
		if formErr != nil {
			writeError(w, 60200, 0, "Invalid parameter")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// create is POST /v2/Services/{service}/Verifications: start a
// verification, or re-send the pending one for the same To.
func (e *Emulator) create(w http.ResponseWriter, r *http.Request) {
	if !e.knownService(w, r) {
		return
	}
	to, channel := r.PostForm.Get("To"), r.PostForm.Get("Channel")
	if e.injected(w, r, to) {
		return
	}
	if !validTo(to, channel) {
		writeError(w, 60200, 0, "Invalid parameter: To")
		return
	}
	switch channel {
	case "sms", "call", "whatsapp", "email":
	default:
		writeError(w, 60200, 0, "Invalid parameter: Channel")
		return
	}
	if channel == "whatsapp" && !e.whatsApp {
		writeError(w, 60223, 0, "Delivery channel disabled: WHATSAPP")
		return
	}

	e.mu.Lock()
	now := e.nowLocked()
	recent := e.sends[to]
	for len(recent) > 0 && !now.Before(recent[0].Add(sendWindow)) {
		recent = recent[1:]
	}
	e.sends[to] = recent
	if len(recent) >= e.maxSends {
		e.mu.Unlock()
		e.log.Info("emulator: send refused", "to", maskPhone(to), "twilio_code", 60203)
		writeError(w, 60203, 0, "")
		return
	}
	v := e.pendingLocked(to, now)
	if v != nil && v.checks >= maxChecks {
		// Out of checks (max_attempts_reached): Twilio closes it, so a new
		// send starts a fresh verification with a new code.
		delete(e.pending, to)
		v = nil
	}
	if v == nil {
		v = &verification{sid: newSID("VE"), to: to, code: e.newCode(to), created: now}
		e.pending[to] = v
	}
	v.channel = channel
	v.updated = now
	v.attempts = append(v.attempts, attempt{sid: newSID("VL"), channel: channel, at: now})
	e.sends[to] = append(recent, now)
	e.lastSent[to] = sentCode{code: v.code, sid: v.sid}
	body := e.verificationJSON(v, "pending")
	code, sends := v.code, len(v.attempts)
	e.mu.Unlock()

	e.log.Info("emulator: code sent", "to", maskPhone(to), "sid", body.SID, "channel", channel, "send", sends)
	if e.onSend != nil {
		e.onSend(to, code, channel)
	}
	writeJSON(w, http.StatusCreated, body)
}

// check is POST /v2/Services/{service}/VerificationCheck.
func (e *Emulator) check(w http.ResponseWriter, r *http.Request) {
	if !e.knownService(w, r) {
		return
	}
	to, sid, code := r.PostForm.Get("To"), r.PostForm.Get("VerificationSid"), r.PostForm.Get("Code")
	target := to
	if target == "" && sid != "" {
		e.mu.Lock()
		if v := e.bySIDLocked(sid, e.nowLocked()); v != nil {
			target = v.to
		}
		e.mu.Unlock()
	}
	if e.injected(w, r, target) {
		return
	}
	if to == "" && sid == "" {
		writeError(w, 60221, 0, "")
		return
	}
	if !validCode(code) {
		writeError(w, 60200, 0, "Invalid parameter: Code")
		return
	}

	e.mu.Lock()
	now := e.nowLocked()
	var v *verification
	if to != "" {
		v = e.pendingLocked(to, now)
		if v != nil && sid != "" && v.sid != sid {
			v = nil
		}
	} else {
		v = e.bySIDLocked(sid, now)
	}
	if v == nil {
		e.mu.Unlock()
		notFound(w, r)
		return
	}
	if v.checks >= maxChecks {
		delete(e.pending, v.to)
		e.mu.Unlock()
		e.log.Info("emulator: check refused", "to", maskPhone(v.to), "sid", v.sid, "twilio_code", 60202)
		writeError(w, 60202, 0, "")
		return
	}
	v.checks++
	v.updated = now
	status := "pending"
	if equal(code, v.code) {
		status = "approved"
		delete(e.pending, v.to)
	}
	body := e.checkJSON(v, status)
	e.mu.Unlock()

	e.log.Info("emulator: code checked", "to", maskPhone(v.to), "sid", v.sid, "status", status)
	writeJSON(w, http.StatusOK, body)
}

// fetch is GET /v2/Services/{service}/Verifications/{sid}.
func (e *Emulator) fetch(w http.ResponseWriter, r *http.Request) {
	if !e.knownService(w, r) {
		return
	}
	e.mu.Lock()
	v := e.bySIDLocked(r.PathValue("sid"), e.nowLocked())
	var body verificationJSON
	if v != nil {
		body = e.verificationJSON(v, "pending")
	}
	e.mu.Unlock()
	if v == nil {
		notFound(w, r)
		return
	}
	if e.injected(w, r, v.to) {
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// update is POST /v2/Services/{service}/Verifications/{sid}: cancel or
// approve out of band. Either way the verification is gone afterwards.
func (e *Emulator) update(w http.ResponseWriter, r *http.Request) {
	if !e.knownService(w, r) {
		return
	}
	status := r.PostForm.Get("Status")
	e.mu.Lock()
	now := e.nowLocked()
	v := e.bySIDLocked(r.PathValue("sid"), now)
	e.mu.Unlock()
	if v == nil {
		notFound(w, r)
		return
	}
	if e.injected(w, r, v.to) {
		return
	}
	if status != "canceled" && status != "approved" {
		writeError(w, 60200, 0, "Invalid parameter: Status")
		return
	}

	e.mu.Lock()
	if e.pending[v.to] != v { // checked, approved or canceled meanwhile
		e.mu.Unlock()
		notFound(w, r)
		return
	}
	delete(e.pending, v.to)
	v.updated = e.nowLocked()
	body := e.verificationJSON(v, status)
	e.mu.Unlock()

	e.log.Info("emulator: verification updated", "to", maskPhone(v.to), "sid", v.sid, "status", status)
	writeJSON(w, http.StatusOK, body)
}

// knownService answers 404 for any service SID but the emulator's.
func (e *Emulator) knownService(w http.ResponseWriter, r *http.Request) bool {
	if r.PathValue("service") != e.serviceSID {
		notFound(w, r)
		return false
	}
	return true
}

// injected answers with the Failure registered for to, if any, and
// reports whether it did.
func (e *Emulator) injected(w http.ResponseWriter, r *http.Request, to string) bool {
	f, ok := e.takeFailure(to)
	if !ok {
		return false
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return true // the client is gone; nobody reads an answer
		}
	}
	if f.RetryAfter > 0 {
		secs := int((f.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	switch {
	case f.HTML:
		status := f.HTTPStatus
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body><h1>%[2]s</h1></body></html>\n",
			status, http.StatusText(status))
	case f.Code != 0:
		writeError(w, f.Code, f.HTTPStatus, "")
	case f.HTTPStatus != 0:
		writeError(w, 20500, f.HTTPStatus, "")
	default:
		return false // a delay only
	}
	e.log.Info("emulator: failure injected", "to", maskPhone(to), "twilio_code", f.Code, "html", f.HTML)
	return true
}

func validTo(to, channel string) bool {
	if channel == "email" {
		_, err := mail.ParseAddress(to)
		return err == nil
	}
	return e164.MatchString(to)
}

// validCode reports whether code could be a Verify code: 4–10 digits.
func validCode(code string) bool {
	if len(code) < 4 || len(code) > 10 {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
