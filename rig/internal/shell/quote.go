// Package shell quotes words for the POSIX shell commands the rig prints
// (rerun lines) and writes (kernel/build.sh's assignments).
package shell

import "strings"

// Quote quotes s as one word for a POSIX shell.
func Quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
