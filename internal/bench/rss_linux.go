//go:build linux

package bench

import (
	"os"
	"syscall"
)

// maxRSS returns the peak resident memory of an ended child in bytes:
// ru_maxrss, which Linux counts in KiB.
func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return int64(ru.Maxrss) << 10
	}
	return 0
}
