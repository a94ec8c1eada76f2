package httpedge

import (
	"encoding/json"
	"net/http"
)

// Codes of the requests refused before GraphQL sees them.
const (
	CodeBadRequest           = "BAD_REQUEST"
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
	CodeTooLarge             = "REQUEST_TOO_LARGE"
	CodeInternal             = "INTERNAL_SERVER_ERROR"
)

// WriteError answers with status and a GraphQL response holding one error
// with extensions.code: the one shape of every error written outside
// GraphQL execution (the edge's refusals, a malformed GraphQL request, a
// panic). message must be written for people and never carry internals.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	writeError(w, status, code, message, "")
}

func writeError(w http.ResponseWriter, status int, code, message, requestID string) {
	type extensions struct {
		Code      string `json:"code"`
		RequestID string `json:"requestId,omitempty"`
	}
	type gqlError struct {
		Message    string     `json:"message"`
		Extensions extensions `json:"extensions"`
	}
	body, _ := json.Marshal(struct {
		Errors []gqlError `json:"errors"`
		Data   any        `json:"data"`
	}{Errors: []gqlError{{Message: message, Extensions: extensions{Code: code, RequestID: requestID}}}})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// WriteJSON answers with status and a JSON body that is not an error.
func WriteJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
