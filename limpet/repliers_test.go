package limpet

import (
	"testing"

	"github.com/kbus-project/kbus/kbus/raw"
)

func TestRepliersResolveLikeKBUS(t *testing.T) {
	var r repliers
	bind := func(id uint32, name string) { r.update(raw.BindEvent{IsBind: true, Binder: id, Name: name}) }
	unbind := func(id uint32, name string) { r.update(raw.BindEvent{Binder: id, Name: name}) }
	want := func(name string, id uint32, found bool) {
		t.Helper()
		got, ok := r.resolve(name)
		if got != id || ok != found {
			t.Errorf("resolve(%q) = %d, %v; want %d, %v", name, got, ok, id, found)
		}
	}

	want("$.STB.DRM.Check", 0, false)
	bind(1, "$.STB.*")
	want("$.STB.DRM.Check", 1, true)
	bind(2, "$.STB.DRM.%")
	want("$.STB.DRM.Check", 2, true) // % beats *
	want("$.STB.DRM.Check.Deep", 1, true)
	bind(3, "$.STB.DRM.Check")
	want("$.STB.DRM.Check", 3, true) // exact beats %
	bind(4, "$.*")
	want("$.Other", 4, true)
	want("$.STB.Tuner.Tune", 4, true) // same class: the most recent binding wins, not the deeper one

	unbind(3, "$.STB.DRM.Check")
	want("$.STB.DRM.Check", 2, true)
	unbind(2, "$.STB.DRM.%")
	unbind(4, "$.*")
	want("$.STB.DRM.Check", 1, true)
	unbind(9, "$.STB.*") // not that Ksock's binding: nothing changes
	want("$.STB.DRM.Check", 1, true)
	unbind(1, "$.STB.*")
	want("$.STB.DRM.Check", 0, false)
}
