package creds

import "golang.org/x/sys/unix"

// 32-bit ARM: the calls with 32-bit ids (the plain ones take 16 bits).
const (
	sysSetgroups = unix.SYS_SETGROUPS32
	sysSetresgid = unix.SYS_SETRESGID32
	sysSetresuid = unix.SYS_SETRESUID32
)
