package emulator

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// verificationJSON is a Verification resource as Twilio returns it.
type verificationJSON struct {
	SID              string        `json:"sid"`
	ServiceSID       string        `json:"service_sid"`
	AccountSID       string        `json:"account_sid"`
	To               string        `json:"to"`
	Channel          string        `json:"channel"`
	Status           string        `json:"status"`
	Valid            bool          `json:"valid"`
	Lookup           lookupJSON    `json:"lookup"`
	Amount           *string       `json:"amount"`
	Payee            *string       `json:"payee"`
	SendCodeAttempts []attemptJSON `json:"send_code_attempts"`
	DateCreated      string        `json:"date_created"`
	DateUpdated      string        `json:"date_updated"`
	SNA              any           `json:"sna"`
	URL              string        `json:"url"`
}

type lookupJSON struct {
	Carrier any `json:"carrier"`
}

type attemptJSON struct {
	AttemptSID string `json:"attempt_sid"`
	Channel    string `json:"channel"`
	Time       string `json:"time"`
}

// checkJSON is a VerificationCheck resource as Twilio returns it.
type checkJSON struct {
	SID                   string  `json:"sid"`
	ServiceSID            string  `json:"service_sid"`
	AccountSID            string  `json:"account_sid"`
	To                    string  `json:"to"`
	Channel               string  `json:"channel"`
	Status                string  `json:"status"`
	Valid                 bool    `json:"valid"`
	Amount                *string `json:"amount"`
	Payee                 *string `json:"payee"`
	DateCreated           string  `json:"date_created"`
	DateUpdated           string  `json:"date_updated"`
	SNA                   any     `json:"sna"`
	SNAAttemptsErrorCodes any     `json:"sna_attempts_error_codes"` // null unless the channel is sna
}

func (e *Emulator) verificationJSON(v *verification, status string) verificationJSON {
	attempts := make([]attemptJSON, len(v.attempts))
	for i, a := range v.attempts {
		attempts[i] = attemptJSON{AttemptSID: a.sid, Channel: a.channel, Time: date(a.at)}
	}
	return verificationJSON{
		SID:              v.sid,
		ServiceSID:       e.serviceSID,
		AccountSID:       e.accountSID,
		To:               v.to,
		Channel:          v.channel,
		Status:           status,
		Valid:            status == "approved",
		SendCodeAttempts: attempts,
		DateCreated:      date(v.created),
		DateUpdated:      date(v.updated),
		URL:              "https://verify.twilio.com/v2/Services/" + e.serviceSID + "/Verifications/" + v.sid,
	}
}

func (e *Emulator) checkJSON(v *verification, status string) checkJSON {
	return checkJSON{
		SID:         v.sid,
		ServiceSID:  e.serviceSID,
		AccountSID:  e.accountSID,
		To:          v.to,
		Channel:     v.channel,
		Status:      status,
		Valid:       status == "approved",
		DateCreated: date(v.created),
		DateUpdated: date(v.updated),
	}
}

// date formats t as Twilio does; twilio-go cannot decode anything but
// RFC 3339.
func date(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// errorJSON is the body of every Twilio error response.
type errorJSON struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// twilioError returns the HTTP status and message Twilio answers code with.
func twilioError(code int) (int, string) {
	switch code {
	case 20003:
		return http.StatusUnauthorized, "Authenticate"
	case 20404:
		return http.StatusNotFound, "The requested resource was not found"
	case 20429:
		return http.StatusTooManyRequests, "Too Many Requests"
	case 20500:
		return http.StatusInternalServerError, "Internal Server Error"
	case 60200:
		return http.StatusBadRequest, "Invalid parameter"
	case 60202:
		return http.StatusTooManyRequests, "Max check attempts reached"
	case 60203:
		return http.StatusTooManyRequests, "Max send attempts reached"
	case 60205:
		return http.StatusBadRequest, "SMS is not supported by landline phone number"
	case 60212:
		return http.StatusTooManyRequests, "Too many concurrent requests for phone number"
	case 60223:
		return http.StatusBadRequest, "Delivery channel disabled"
	case 60221:
		return http.StatusBadRequest, "VerificationCheck requires either a 'To' or a 'VerificationSid' parameter"
	case 60410:
		return http.StatusForbidden, "Verification delivery attempt blocked: Fraud Guard"
	case 60605:
		return http.StatusForbidden, "Verification delivery attempt blocked: Geo Permissions"
	default:
		return http.StatusBadRequest, "Error"
	}
}

// writeError writes Twilio's error body for code. status and message
// override the table when non-zero.
func writeError(w http.ResponseWriter, code, status int, message string) {
	defStatus, defMessage := twilioError(code)
	if status == 0 {
		status = defStatus
	}
	if message == "" {
		message = defMessage
	}
	writeJSON(w, status, errorJSON{
		Code:     code,
		Message:  message,
		MoreInfo: "https://www.twilio.com/docs/errors/" + strconv.Itoa(code),
		Status:   status,
	})
}

func notFound(w http.ResponseWriter, r *http.Request) {
	// Twilio names the resource without the API version.
	writeError(w, 20404, 0, "The requested resource "+strings.TrimPrefix(r.URL.Path, "/v2")+" was not found")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only plain structs and maps are passed in
		panic("emulator: " + err.Error())
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b) // the status line is out; a write error has no one to go to
}
