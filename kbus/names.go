package kbus

import (
	"fmt"
	"strings"
)

// ErrName is wrapped by the errors ValidateName returns.
const ErrName = sentinel("invalid KBUS message name")

// ValidateName checks a message name against the rules KBUS applies
// (docs/kbus.md §2.1) and says which rule it breaks. Wildcards ("$.a.*",
// "$.a.%") are allowed only for binding.
func ValidateName(name string, allowWildcard bool) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w %q: %s", ErrName, name, fmt.Sprintf(format, a...))
	}
	if len(name) < 3 {
		return bad("a name has at least 3 bytes (\"$.\" and a word)")
	}
	if len(name) > 1000 {
		return bad("a name has at most 1000 bytes, this has %d", len(name))
	}
	if !strings.HasPrefix(name, "$.") {
		return bad("a name starts with \"$.\"")
	}
	rest := name
	if strings.HasSuffix(name, ".*") || strings.HasSuffix(name, ".%") {
		if !allowWildcard {
			return bad("a wildcard (ending in .* or .%%) can be bound but not sent")
		}
		rest = name[:len(name)-2]
		if rest == "$" {
			return nil
		}
	}
	if strings.HasSuffix(rest, ".") {
		return bad("a name does not end with a dot")
	}
	for i := 2; i < len(rest); i++ {
		c := rest[i]
		switch {
		case c == '.':
			if rest[i-1] == '.' {
				return bad("two dots in a row at byte %d: words are not empty", i)
			}
		case c == '*' || c == '%':
			return bad("%q at byte %d: a wildcard is only a whole last word (\"$.a.*\")", c, i)
		case !isAlnum(c):
			return bad("%q at byte %d: words are letters and digits only", c, i)
		}
	}
	return nil
}

// isAlnum is the kernel's isalnum(): ASCII letters and digits, and the
// Latin-1 letters 0xC0–0xFF except 0xD7 and 0xF7.
func isAlnum(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	case c >= 0xC0 && c != 0xD7 && c != 0xF7:
		return true
	}
	return false
}

// Matches reports whether a message name is matched by a binding
// (docs/kbus.md §2.2): a binding ending in "*" matches every name under its prefix, one
// ending in "%" only the names one word below it, any other only itself.
func Matches(binding, name string) bool {
	if binding == "" {
		return false
	}
	prefix := binding[:len(binding)-1]
	switch binding[len(binding)-1] {
	case '*':
		return len(name) >= len(binding) && strings.HasPrefix(name, prefix)
	case '%':
		return len(name) >= len(binding) && strings.HasPrefix(name, prefix) &&
			!strings.Contains(name[len(prefix):], ".")
	default:
		return binding == name
	}
}

// Specificity ranks a replier binding as KBUS does when several match a
// name (docs/kbus.md §2.3): an exact name 3, a "%" wildcard 2, a "*" wildcard 1.
func Specificity(binding string) int {
	switch {
	case strings.HasSuffix(binding, "*"):
		return 1
	case strings.HasSuffix(binding, "%"):
		return 2
	default:
		return 3
	}
}
