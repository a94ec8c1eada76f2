package auth

import (
	"fmt"
	"strings"
	"time"
)

// Reasons are the values of RATE_LIMITED's extensions.reason: what was
// limited, in words a client can act on. The set is part of the API: a
// reason is never renamed or removed.
var Reasons = []string{
	"ip",                         // too many requests from one address (or IPv6 network)
	"account_block",              // failed passwords or codes on the account: a growing pause
	"account_per_hour",           // the account's failures in the last hour
	"account_per_day",            // the account's failures in the last 24 hours
	"phone_cooldown",             // a code went to the number moments ago
	"phone_per_hour",             // codes to the number in the last hour
	"phone_per_day",              // codes to the number in the last 24 hours
	"unverified_account_per_day", // codes for an account that has not confirmed its number yet
	"sms_ceiling",                // codes sent by the whole service in the last hour
	"reset_per_email",            // password resets asked for the email in the last hour
	"provider",                   // Twilio refused more sends or checks for now
	"hash_capacity",              // the server is busy checking passwords
}

// LimitNames are auth's names of its limits, as a refusal's Limit, the log
// (rate limit hit) and the metrics (twostep_limit_hits_total) give them: a
// fixed set. authtest fails a test whose refusal names another.
var LimitNames = []string{
	"register_per_ip", "login_per_ip", "verify_per_ip", "refresh_per_ip", "reset_per_ip", "reset_per_email",
	"account_block", "account_per_hour", "account_per_day",
	"phone_cooldown", "phone_per_hour", "phone_per_day", "unverified_account_per_day", "reset_sends_per_day",
	"sms_ceiling", "sms_unverified_ceiling", "sms_country_ceiling",
	"hash_capacity",
}

// reasonOf maps a limit (auth's internal name) to its reason.
func reasonOf(limit string) string {
	switch {
	case strings.HasSuffix(limit, "_per_ip"):
		return "ip"
	case limit == "sms_unverified_ceiling" || limit == "sms_country_ceiling":
		return "sms_ceiling"
	case limit == "reset_sends_per_day":
		return "phone_per_day" // never reaches a client: reset sends are silent
	}
	return limit
}

// limitMessage says what was limited and when to try again.
func limitMessage(reason string, after time.Duration) string {
	in := "Try again in " + humanDuration(after) + "."
	switch reason {
	case "ip":
		return "Too many requests from your network. " + in
	case "account_block", "account_per_hour", "account_per_day":
		return "Too many failed attempts on this account. " + in
	case "phone_cooldown":
		return "A code was just sent to this number. You can ask for another in " + humanDuration(after) + "."
	case "phone_per_hour", "phone_per_day":
		return "We have sent too many codes to this number. " + in
	case "unverified_account_per_day":
		return "This account has asked for too many codes today. " + in
	case "sms_ceiling":
		return "We are sending too many codes right now. " + in
	case "reset_per_email":
		return "Too many password resets for this email. " + in
	case "provider":
		return "The SMS provider will not send or check more codes for now. " + in
	case "hash_capacity":
		return "The server is busy. Try again in a moment."
	}
	return "Too many attempts. " + in
}

// humanDuration rounds d up for people: "45 seconds", "3 minutes",
// "1 hour 5 minutes", "about 24 hours".
func humanDuration(d time.Duration) string {
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	secs := int((d + time.Second - 1) / time.Second)
	switch {
	case secs < 60:
		return plural(max(secs, 1), "second")
	case secs < 3600:
		return plural((secs+59)/60, "minute")
	case secs < 6*3600:
		mins := (secs + 59) / 60
		if mins%60 == 0 {
			return plural(mins/60, "hour")
		}
		return plural(mins/60, "hour") + " " + plural(mins%60, "minute")
	}
	return "about " + plural((secs+3599)/3600, "hour")
}
