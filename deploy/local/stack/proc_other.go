//go:build !linux

package stack

import "syscall"

// sysProcAttr puts a child in its own process group (Pdeathsig is Linux
// only: elsewhere a killed launcher can leave children behind).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
