package main

import (
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// flagsOf is every flag name command c accepts.
func flagsOf(c *command) []string {
	var names []string
	c.flagSet(&options{}, io.Discard).VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// allFlags is every flag any verb accepts.
func allFlags() map[string]bool {
	all := map[string]bool{}
	for _, c := range commands() {
		for _, n := range flagsOf(c) {
			all[n] = true
		}
	}
	return all
}

var dashFlag = regexp.MustCompile(`(?:^|[\s(\[|])-{1,2}([a-z][a-z0-9-]*)`)

// rig VERB -h lists exactly the flags the verb accepts, and the usage text
// names no flag it would refuse.
func TestEveryVerbsHelpListsOnlyWhatItAccepts(t *testing.T) {
	all := allFlags()
	for _, c := range commands() {
		code, out, errOut := runRig(c.Name, "-h")
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "usage: "+c.usageLine()+"\n") {
			t.Errorf("rig %s -h: exit %d, stderr %q, stdout %q", c.Name, code, errOut, out)
			continue
		}
		own := flagsOf(c)
		for name := range all {
			listed := strings.Contains(out, "\n  -"+name+" ") || strings.Contains(out, "\n  -"+name+"\n")
			if listed != slices.Contains(own, name) {
				t.Errorf("rig %s -h: -%s listed %v, accepted %v", c.Name, name, listed, !listed)
			}
		}
		for _, m := range dashFlag.FindAllStringSubmatch(c.Args+"\n"+c.Long, -1) {
			if !slices.Contains(own, m[1]) {
				t.Errorf("rig %s's usage names -%s, which it does not accept", c.Name, m[1])
			}
		}
		if helped, _, _ := runRig("help", c.Name); helped != 0 {
			t.Errorf("rig help %s: exit %d", c.Name, helped)
		}
	}
	if code, out, _ := runRig("-h"); code != 0 || !strings.HasPrefix(out, "usage: rig COMMAND") {
		t.Errorf("rig -h: exit %d, %q", code, out)
	}
}

// The package comment (go doc ./cmd/rig) lists the verbs of the table.
func TestPackageDocListsEveryVerb(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, m := range regexp.MustCompile(`(?m)^//\trig ([a-z-]+)`).FindAllStringSubmatch(string(src), -1) {
		documented = append(documented, m[1])
	}
	var verbs []string
	for _, c := range commands() {
		verbs = append(verbs, c.Name)
	}
	if !slices.Equal(documented, verbs) {
		t.Errorf("main.go's doc lists %q; the table has %q", documented, verbs)
	}
}

// Every rig invocation the Makefile's targets make parses and passes vet:
// make -n prints each recipe with the variables expanded.
func TestEveryMakefileInvocationParses(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	const rig = "/rig-under-test"
	cmds := commands()
	seen := map[string]bool{}
	for _, goal := range [][]string{
		{"qemu-test"}, {"qemu-test", "TOPOLOGY=pair"}, {"qemu-test", "ARCH=all", "SUITE=specs/core", "LABELS=stb"},
		{"qemu-shell"}, {"bench"}, {"qemu-test-debug"}, {"qemu-test-all"}, {"qemu-test-soak"}, {"qemu-test-pair"},
		{"qemu-test-6.12"}, {"distro-test"}, {"difftest", "SEED=5"}, {"fuzz"}, {"stress"}, {"reliability-test"},
		{"image"}, {"image-test", "FLOOD=1"}, {"image-repro", "BOARD=all"}, {"lava-jobs"}, {"lava-test"},
		{"boards-test"}, {"report"}, {"flash", "IMAGE=x.img", "DEVICE=/dev/sdz", "FORCE=1"},
	} {
		args := append([]string{"-C", "../..", "-n", "-s", "--no-print-directory", "SETUP_DONE=1", "RIG=" + rig}, goal...)
		out, err := exec.Command("make", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("make %s: %v\n%s", strings.Join(goal, " "), err, out)
		}
		n := 0
		recipe := strings.ReplaceAll(string(out), "\\\n", " ") // continued lines
		for _, line := range strings.Split(recipe, "\n") {
			for _, at := range strings.Split(line, rig+" ")[1:] {
				words := shellWords(at)
				c := lookup(cmds, words[0])
				if c == nil {
					t.Errorf("make %s: rig %s is no verb", goal[0], words[0])
					continue
				}
				if _, err := parse(c, words[1:], io.Discard, io.Discard); err != nil {
					_, _, why := runRig(words...)
					t.Errorf("make %s: rig %q: %s", goal[0], words, why)
				}
				seen[c.Name] = true
				n++
			}
		}
		if n == 0 && goal[0] != "report" {
			t.Errorf("make %s runs no rig", goal[0])
		}
	}
	for _, want := range []string{"test", "bench", "shell", "image", "lava-jobs", "lava-test", "flash"} {
		if !seen[want] {
			t.Errorf("no Makefile target runs rig %s", want)
		}
	}
}

// shellWords splits a recipe line after "rig " into words the way sh
// would for the plain quoting the Makefile uses, up to ; | > or &&.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote != 0 && ch == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(ch)
		case ch == '\'' || ch == '"':
			quote, in = ch, true
		case ch == ';' || ch == '|' || ch == '>' || ch == '&':
			i = len(s)
		case ch == ' ' || ch == '\t':
			if in {
				words, in = append(words, cur.String()), false
				cur.Reset()
			}
		default:
			cur.WriteByte(ch)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

// Every "rig VERB -flag" the README and docs/ show is a flag that verb
// accepts.
func TestDocumentedInvocationsUseRealFlags(t *testing.T) {
	files, _ := filepath.Glob("../../docs/*.md")
	files = append(files, "../../README.md")
	cmds := commands()
	invocation := regexp.MustCompile(`\brig ([a-z][a-z-]*)((?: +(?:-{1,2}[a-z][a-z0-9.-]*|[^\s` + "`" + `;|)]+))*)`)
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range invocation.FindAllStringSubmatch(string(b), -1) {
			c := lookup(cmds, m[1])
			if c == nil {
				continue // "the rig builds", prose
			}
			own := flagsOf(c)
			for _, w := range strings.Fields(m[2]) {
				if !strings.HasPrefix(w, "-") || w == "-" || w == "--" {
					continue
				}
				name := strings.SplitN(strings.TrimLeft(w, "-"), "=", 2)[0]
				name = strings.TrimRight(name, ".,:")
				if name == "h" || name == "help" {
					continue
				}
				checked++
				if !slices.Contains(own, name) {
					t.Errorf("%s: %q: rig %s takes no -%s", filepath.Base(f), m[0], c.Name, name)
				}
			}
		}
	}
	if checked == 0 {
		t.Error("found no documented rig invocation to check")
	}
}

// make vet and make runner-test look for the runner's VM tests (build tag
// vmtest) only in the Makefile's VMTEST_PKGS: a test behind the tag
// anywhere else would be neither vetted nor run.
func TestVMTestsLiveWhereMakeLooks(t *testing.T) {
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^VMTEST_PKGS = (.+)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("the Makefile sets no VMTEST_PKGS")
	}
	allowed := map[string]bool{}
	for _, p := range strings.Fields(string(m[1])) {
		allowed[filepath.Clean(p)] = true
	}
	found := 0
	err = filepath.WalkDir("../..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("../..", path)
		if d.IsDir() && (rel == "out" || strings.HasPrefix(d.Name(), ".") && rel != ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if regexp.MustCompile(`(?m)^//go:build .*\bvmtest\b`).Match(b) {
			found++
			if !allowed[filepath.Dir(rel)] {
				t.Errorf("%s is a VM test outside VMTEST_PKGS (%s)", rel, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == 0 {
		t.Error("found no VM test at all")
	}
}
