package creds

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestDoChangesOneThreadOnly(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("changing ids needs root")
	}
	var uid, gid int
	if err := Do(65534, 65534, func() { uid, gid = unix.Getuid(), unix.Getgid() }); err != nil {
		t.Fatal(err)
	}
	if uid != 65534 || gid != 65534 {
		t.Errorf("f ran as %d:%d", uid, gid)
	}
	if u := unix.Getuid(); u != 0 {
		t.Errorf("the process is now uid %d", u)
	}
}

func TestDoRaisesFsPanicInTheCaller(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("changing ids needs root")
	}
	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("recovered %v", r)
		}
	}()
	_ = Do(65534, 65534, func() { panic("boom") })
	t.Error("Do returned")
}
