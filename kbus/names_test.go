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

func TestMatches(t *testing.T) {
	for _, c := range []struct {
		binding, name string
		want          bool
	}{
		{"$.Fred.*", "$.Fred.Jim", true},
		{"$.Fred.*", "$.Fred.Jim.Bob", true},
		{"$.Fred.*", "$.Fred", false},
		{"$.Fred.*", "$.Fredx.Jim", false},
		{"$.*", "$.Anything.At.All", true},
		{"$.Fred.%", "$.Fred.Jim", true},
		{"$.Fred.%", "$.Fred.Jim.Bob", false},
		{"$.Fred.%", "$.Fred", false},
		{"$.%", "$.Top", true},
		{"$.%", "$.Top.Two", false},
		{"$.Fred", "$.Fred", true},
		{"$.Fred", "$.Fred.Jim", false},
		{"", "$.Fred", false},
	} {
		if got := Matches(c.binding, c.name); got != c.want {
			t.Errorf("Matches(%q, %q) = %v, want %v", c.binding, c.name, got, c.want)
		}
	}
}

func TestSpecificity(t *testing.T) {
	if !(Specificity("$.a.b") > Specificity("$.a.%") && Specificity("$.a.%") > Specificity("$.a.*")) {
		t.Errorf("exact > %% > *: got %d %d %d", Specificity("$.a.b"), Specificity("$.a.%"), Specificity("$.a.*"))
	}
}
