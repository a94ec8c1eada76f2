package graph

import (
	"testing"
	"time"

	"github.com/twostep/twostep/auth"
)

// TestLoginPayloadResendAfter: resendAfter is the cooldown in whole seconds,
// rounded up, so a client that waits it out is never refused.
func TestLoginPayloadResendAfter(t *testing.T) {
	for _, tc := range []struct {
		cooldown time.Duration
		want     int
	}{{0, 0}, {time.Millisecond, 1}, {1500 * time.Millisecond, 2}, {2 * time.Second, 2}, {30 * time.Second, 30}} {
		p := loginPayload(&auth.LoginResult{Channel: auth.ChannelCall, ResendAfter: tc.cooldown})
		if p.ResendAfter != tc.want || p.Channel != OtpChannelCall {
			t.Errorf("loginPayload(cooldown %v) = resendAfter %d, channel %s; want %d, CALL", tc.cooldown, p.ResendAfter, p.Channel, tc.want)
		}
	}
}
