package fuzz

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// faultDebugfs is where the kernel's fault injection is set up
// (CONFIG_FAULT_INJECTION_DEBUG_FS; the debug kernel has it).
const faultDebugfs = "/sys/kernel/debug"

// setUpFaults lets Op.Fail reach the module's allocations: by default the
// slab and page allocators leave allocations that may sleep out of fault
// injection (ignore-gfp-wait), which are nearly all of the module's, and
// report each injected failure with a stack trace (verbose), which the
// rig's console scan would take for a kernel problem. Nothing fails unless
// a thread asks (fail-nth): the probability stays 0. Without fault
// injection in the kernel it does nothing and says so.
func setUpFaults() (bool, error) {
	for _, dir := range []string{"failslab", "fail_page_alloc"} {
		d := filepath.Join(faultDebugfs, dir)
		if _, err := os.Stat(d); errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		for file, value := range map[string]string{"ignore-gfp-wait": "N", "verbose": "0"} {
			if err := os.WriteFile(filepath.Join(d, file), []byte(value), 0); err != nil {
				return false, fmt.Errorf("fuzz: setting up fault injection: %w", err)
			}
		}
	}
	return true, nil
}
