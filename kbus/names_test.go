package kbus

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	valid := []string{"$.Fred", "$.Fred.Jim", "$.a", "$.*", "$.%", "$.Fred.*", "$.Fred.%", "$." + strings.Repeat("x", 998)}
	for _, n := range valid {
		if err := ValidateName(n, true); err != nil {
			t.Errorf("%q: %v", n, err)
		}
	}
	invalid := map[string]string{
		"$.Fred.":                       "end with a dot",
		"$.Fred..Jim":                   "two dots",
		"$.#":                           "letters and digits",
		"$.a-b":                         "letters and digits",
		"$.Fred*":                       "whole last word",
		"$.*.Fred":                      "whole last word",
		"Fred":                          `starts with "$."`,
		"$.":                            "at least 3",
		"$." + strings.Repeat("x", 999): "at most 1000",
	}
	for n, why := range invalid {
		err := ValidateName(n, true)
		if !errors.Is(err, ErrName) || !strings.Contains(err.Error(), why) {
			t.Errorf("%q: %v, want a reason with %q", n, err, why)
		}
	}
	if err := ValidateName("$.Fred.*", false); err == nil || !strings.Contains(err.Error(), "not sent") {
		t.Errorf("wildcard to send: %v", err)
	}
}
