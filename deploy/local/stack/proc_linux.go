package stack

import "syscall"

// sysProcAttr puts a child in its own process group and has the kernel
// SIGKILL it when the launcher dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
