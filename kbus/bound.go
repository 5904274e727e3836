package kbus

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// userBindingsFile is where device n's bound on a user's bindings is.
func userBindingsFile(n int) string {
	return fmt.Sprintf("/sys/class/kbus/kbus%d/max_user_bindings", n)
}

// MaxUserBindings returns how many bindings one user who neither owns
// device n's node nor has CAP_SYS_ADMIN may hold on it; 0 means no bound
// (docs/kbus.md §18.5).
func MaxUserBindings(n int) (uint32, error) {
	b, err := os.ReadFile(userBindingsFile(n))
	if err != nil {
		return 0, fmt.Errorf("kbus%d: reading the user binding bound: %w", n, err)
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("kbus%d: user binding bound %q: %w", n, b, err)
	}
	return uint32(v), nil
}

// SetMaxUserBindings sets device n's bound on a user's bindings (root
// only; 0 lifts it). Bindings already made stay.
func SetMaxUserBindings(n int, bound uint32) error {
	if err := os.WriteFile(userBindingsFile(n), []byte(strconv.FormatUint(uint64(bound), 10)), 0); err != nil {
		return fmt.Errorf("kbus%d: setting the user binding bound: %w", n, err)
	}
	return nil
}
