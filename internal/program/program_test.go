package program

import (
	"reflect"
	"strings"
	"testing"
)

func TestGenerateIsItsSeed(t *testing.T) {
	a, b := Generate(42, 200), Generate(42, 200)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave two programs")
	}
	if reflect.DeepEqual(a, Generate(43, 200)) {
		t.Error("two seeds gave one program")
	}
	if len(a) != 200+3*Slots {
		t.Errorf("%d operations", len(a))
	}
}

// reached is what programs must meet: kinds of message, errnos, pieces.
var reached = []string{"Reply", "Status", "EAGAIN", "ENOLCK", "EBUSY", "EPIPE", "EADDRNOTAVAIL",
	"EFAULT", "EMSGSIZE", "ENAMETOOLONG", "EBADMSG", "EINVAL", "EALREADY", "ENOMSG", "EBADF",
	"ok size=100", "got=8 lenleft=", "got=0 lenleft=0", "replier=k", "nr=8 readonly=true", "nr=19 readonly=true", "readonly=true: EFAULT got=0 lenleft=0",
	" id=[2:", "orig_from=(1,2) final_to=(1,2)", "Reply $.A", "dev=1: opened"}

// Many programs run on the model, twice each with the same result: no
// panics, no dependence on anything but the program.
func TestTheModelRunsEveryProgramTheSameWay(t *testing.T) {
	kinds := map[string]bool{}
	for seed := int64(1); seed <= 300; seed++ {
		p := Generate(seed, 300)
		a, b := Run(NewModel(), p), Run(NewModel(), p)
		if i, differ := Diff(a, b); differ {
			t.Fatalf("seed %d differs at line %d", seed, i)
		}
		for _, l := range a.Lines(p) {
			for _, k := range reached {
				if strings.Contains(l, k) {
					kinds[k] = true
				}
			}
		}
	}
	// The programs reach the interesting cases.
	for _, k := range reached {
		if !kinds[k] {
			t.Errorf("no program met %s", k)
		}
	}
}

func TestShrinkKeepsWhatStillDiffers(t *testing.T) {
	p := Generate(7, 100)
	target := p[50]
	differs := func(q Program) bool {
		for _, o := range q {
			if o == target {
				return true
			}
		}
		return false
	}
	got := Shrink(p, differs)
	if !differs(got) || len(got) != 3*Slots+1 {
		t.Errorf("shrunk to %d operations:\n%v", len(got), got)
	}
}

// Programs open some Ksocks as another user, whose device-wide changes
// the model refuses with EPERM, and whose binds beyond MaxUserBindings it
// refuses with ENOSPC: the comparison with the module covers who may
// change a device and how many bindings a user may hold (docs/kbus.md
// §18.5).
func TestProgramsChangeDevicesAsAnotherUserToo(t *testing.T) {
	refused := map[string]int{}
	for seed := int64(1); seed <= 50; seed++ {
		p := Generate(seed, 400)
		for _, line := range Run(NewModel(), p).Lines(p) {
			for _, e := range []string{"EPERM", "ENOSPC"} {
				if strings.Contains(line, e) {
					refused[e]++
				}
			}
		}
	}
	for _, e := range []string{"EPERM", "ENOSPC"} {
		if refused[e] == 0 {
			t.Errorf("no operation of 50 programs was refused with %s", e)
		}
	}
	t.Logf("operations refused: %v", refused)
}
