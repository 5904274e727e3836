package fuzz

import (
	"reflect"
	"strings"
	"testing"
)

func TestUnreachedFunctions(t *testing.T) {
	const kallsyms = `ffffffff81000000 T _stext
ffffffffc0002000 t kbus_send	[kbus]
ffffffffc0001000 t kbus_open	[kbus]
ffffffffc0003000 T kbus_bind	[kbus]
ffffffffc0004000 d kbus_fops	[kbus]
ffffffffc0005000 t other_fn	[other]
ffffffffc0003800 t kbus_unbind	[kbus]
ffffffffc0006000 t _sub_I_65535_1	[kbus]
`
	fns, err := moduleFunctions(strings.NewReader(kallsyms), "kbus")
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) != 4 || fns[0].name != "kbus_open" || fns[3].name != "kbus_unbind" {
		t.Fatalf("functions %+v", fns)
	}
	blocks := map[uintptr]struct{}{0xffffffffc0001010: {}, 0xffffffffc0003900: {}, 0xffffffff81000010: {}}
	if got, want := unreached(fns, blocks), []string{"kbus_bind", "kbus_send"}; !reflect.DeepEqual(got, want) {
		t.Errorf("unreached %v, want %v", got, want)
	}
	if got, want := placed(fns, blocks), []string{"kbus_open+0x10", "kbus_unbind+0x100"}; !reflect.DeepEqual(got, want) {
		t.Errorf("placed %v, want %v", got, want)
	}
	if _, err := moduleFunctions(strings.NewReader("0000000000000000 t kbus_open\t[kbus]\n"), "kbus"); err == nil {
		t.Error("hidden addresses were taken for functions at 0")
	}
}
