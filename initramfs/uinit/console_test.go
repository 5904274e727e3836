package main

import "testing"

func TestParseKmsgReadsTheLevelAndTheText(t *testing.T) {
	for _, c := range []struct {
		in    string
		level int
		text  string
		ok    bool
	}{
		{"4,1052,16388096,-;hrtimer: interrupt took 16388096 ns\n", 4, "hrtimer: interrupt took 16388096 ns", true},
		// Facility 3 (daemon) << 3 | level 6: only the level counts.
		{"30,7,100,-;a line from user space\n SUBSYSTEM=x\n", 6, "a line from user space", true},
		{"3,8,200,c;a;semicolon\n", 3, "a;semicolon", true},
		{"no header at all\n", 0, "", false},
		{"x,1,2,-;bad priority\n", 0, "", false},
	} {
		rec, ok := parseKmsg([]byte(c.in))
		if ok != c.ok || rec.level != c.level || rec.text != c.text {
			t.Errorf("parseKmsg(%q) = %+v, %v; want level %d, text %q, %v", c.in, rec, ok, c.level, c.text, c.ok)
		}
	}
}
