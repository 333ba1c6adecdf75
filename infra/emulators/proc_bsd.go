//go:build unix && !linux

package emulators

import "syscall"

// sysProcAttr: own process group, so that Stop signals the whole group. Outside Linux there is no
// parent-death signal: call Stop (the emulators outlive a crashed parent).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
