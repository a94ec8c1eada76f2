package importer

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestProgress: on a terminal the count is one line redrawn in place, at
// most ten times a second, and cleared before a report line and at the
// end; elsewhere, a line every so many lines of input.
func TestProgress(t *testing.T) {
	tests := []struct {
		name string
		tty  bool
		want string
	}{
		{"terminal", true, "\r\033[Kimported 1, skipped 0 (email exists), refused 0, of 1 lines" +
			"\r\033[Kline 2: refused: x\n"},
		{"file", false, "line 2: refused: x\n" +
			"import-users: imported 1, skipped 0 (email exists), refused 1, of 4 lines\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			p := &progress{w: &b, tty: tt.tty, every: 3}
			p.update(Summary{Lines: 1, Imported: 1})
			p.last = time.Now().Add(time.Hour) // the next redraws come too soon
			p.Write([]byte("line 2: refused: x\n"))
			p.update(Summary{Lines: 2, Imported: 1, Refused: 1})
			p.update(Summary{Lines: 4, Imported: 1, Refused: 1})
			p.clear()
			if got := b.String(); got != tt.want {
				t.Errorf("progress wrote %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBloom(t *testing.T) {
	b := newBloom()
	if b.add("a@example.com") || !b.add("a@example.com") {
		t.Fatal("add(a) twice: want false, then true")
	}
	repeats := 0
	for i := range 100_000 {
		if b.add("user" + strconv.Itoa(i) + "@example.com") {
			repeats++
		}
	}
	if repeats > 0 {
		t.Errorf("%d of 100,000 distinct emails seen before, want 0", repeats)
	}
}
