package auth

import (
	"net/netip"

	"github.com/twostep/twostep/store"
)

// The names of the store's counters and attempt logs, all in one place so
// that no two rules share a key by accident and a reader sees every budget
// there is.

// ipKey names the budget of action (register, login, verify) for a client
// address: the address itself, or for IPv6 its /64. One subscriber is
// routinely given a whole /64, so counting single IPv6 addresses would hand
// an attacker a fresh budget per request.
func ipKey(action, ip string) string {
	return "ip:" + action + ":" + ipPrefix(ip)
}

func ipPrefix(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" {
		return ip
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// phoneKey names a send budget of one number: window is cooldown, hour or
// day.
func phoneKey(window, phone string) string { return "phone:" + window + ":" + phone }

// smsGlobalKey is the budget of all sends together.
const smsGlobalKey = "sms:global"

// accountKey names an account: the user id when the account exists, else
// the email, so unknown emails are throttled the same way as known ones
// and reveal nothing.
func accountKey(u *store.User, email string) string {
	if u != nil {
		return userAccountKey(u.ID)
	}
	return "e:" + email
}

func userAccountKey(userID string) string { return "u:" + userID }

// attemptKey names an account's attempt log.
func attemptKey(acct string) string { return "acct:" + acct }
