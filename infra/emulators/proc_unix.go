//go:build unix

package emulators

import (
	"errors"
	"syscall"
)

// killGroup sends SIGTERM (or SIGKILL) to the process group pgid. A group that no longer exists
// is not an error.
func killGroup(pgid int, hard bool) error {
	sig := syscall.SIGTERM
	if hard {
		sig = syscall.SIGKILL
	}
	if err := syscall.Kill(-pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}
