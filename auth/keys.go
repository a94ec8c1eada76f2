package auth

import (
	"net/netip"
	"strconv"

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
	if p, ok := ipv6Prefix(ip, 64); ok {
		return p
	}
	if a, err := netip.ParseAddr(ip); err == nil {
		return a.WithZone("").String()
	}
	return ip
}

// ipv6SiteKey names the budget of action for the /48 of an IPv6 address.
func ipv6SiteKey(action, ip string) (string, bool) {
	p, ok := ipv6Prefix(ip, 48)
	return "ip:" + action + ":" + p, ok
}

func ipv6Prefix(ip string, bits int) (string, bool) {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is6() || a.Is4In6() {
		return "", false
	}
	a = a.WithZone("") // a zone names an interface, not another subscriber
	p, err := a.Prefix(bits)
	if err != nil {
		return "", false
	}
	return p.String(), true
}

// phoneKey names a send budget of one number: who is verified (its owner)
// or unverified (every account that has not verified it); window is
// cooldown, hour or day.
func phoneKey(who, window, phone string) string { return "phone:" + who + ":" + window + ":" + phone }

// smsCeilingKey names a ceiling of all sends: to verified numbers or to
// unverified ones.
func smsCeilingKey(who string) string { return "sms:" + who }

// smsCountryKey names the ceiling of unverified sends to one country
// calling code.
func smsCountryKey(cc int) string { return "sms:country:" + strconv.Itoa(cc) }

// unverifiedAccountKey names the daily send budget of an account that has
// not verified its number.
func unverifiedAccountKey(userID string) string { return "acct:unverified-sends:" + userID }

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

// resetSendsKey names the daily budget of reset codes sent to an account.
func resetSendsKey(userID string) string { return "acct:reset-sends:" + userID }

// resetEmailKey names the budget of password resets asked for one email,
// with or without an account.
func resetEmailKey(email string) string { return "reset:email:" + email }

// attemptKey names an account's attempt log.
func attemptKey(acct string) string { return "acct:" + acct }
