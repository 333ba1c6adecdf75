//go:build linux

package emulators

import "syscall"

// sysProcAttr: own process group (Stop signals the whole group), and SIGTERM when the parent
// dies. Pdeathsig fires when the thread that started the child exits; the Go runtime does not
// end its threads unless a goroutine exits while locked to one, which this package never does.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
