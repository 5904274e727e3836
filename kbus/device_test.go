package kbus

import (
	"errors"
	"testing"
)

func TestDefaultDevice(t *testing.T) {
	for _, c := range []struct {
		env  string
		want int
		bad  bool
	}{
		{"", 0, false}, {"0", 0, false}, {"7", 7, false},
		{"-1", 0, true}, {"kbus1", 0, true}, {"/dev/kbus1", 0, true},
	} {
		t.Setenv(DeviceEnv, c.env)
		got, err := DefaultDevice()
		if got != c.want || (err != nil) != c.bad || (c.bad && !errors.Is(err, ErrInvalid)) {
			t.Errorf("%s=%q: %d, %v", DeviceEnv, c.env, got, err)
		}
	}
}
