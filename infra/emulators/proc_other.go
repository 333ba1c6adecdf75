//go:build !unix

package emulators

import (
	"errors"
	"syscall"
)

// The emulators are supervised through Unix process groups; other systems are not supported.
func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(pgid int, hard bool) error {
	return errors.New("emulators: process groups are not supported on this system")
}
