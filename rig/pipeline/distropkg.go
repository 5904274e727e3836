package pipeline

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/kbus-project/kbus/initramfs"
	"github.com/kbus-project/kbus/rig/guestproto"
)

// Package is the module's distribution package as installed on this
// machine (kbus-dkms, make dkms-install): its udev rules and the group
// they give the device nodes, which its postinst made. A distribution run
// boots with them and with the distribution's udev, so that the nodes get
// what they get on a Debian system (docs/kbus.md §18.5).
type Package struct {
	Name  string
	Rules []string // the package's udev rules files, as installed
	Group string   // the group the rules give the nodes
	GID   int
}

// groupRule finds a udev rule's GROUP="NAME" assignment.
var groupRule = regexp.MustCompile(`\bGROUP\s*:?=\s*"([^"]+)"`)

// LookupPackage reads the installed package name: its udev rules from
// dpkg's list of its files, the group they name, and that group's id.
func LookupPackage(name string) (*Package, error) {
	out, err := exec.Command("dpkg-query", "-L", name).Output()
	if err != nil {
		return nil, fmt.Errorf("package %s is not installed here (make dkms-install installs it): %w", name, err)
	}
	p := &Package{Name: name}
	for _, f := range strings.Fields(string(out)) {
		if strings.Contains(f, "/udev/rules.d/") && strings.HasSuffix(f, ".rules") {
			p.Rules = append(p.Rules, f)
		}
	}
	if len(p.Rules) == 0 {
		return nil, fmt.Errorf("package %s has no udev rules", name)
	}
	for _, r := range p.Rules {
		b, err := os.ReadFile(r)
		if err != nil {
			return nil, err
		}
		if m := groupRule.FindSubmatch(b); m != nil {
			p.Group = string(m[1])
			break
		}
	}
	if p.Group == "" {
		return nil, fmt.Errorf("package %s: no udev rule gives the nodes a group", name)
	}
	g, err := user.LookupGroup(p.Group)
	if err != nil {
		return nil, fmt.Errorf("package %s: group %s (its postinst makes it): %w", name, p.Group, err)
	}
	if p.GID, err = strconv.Atoi(g.Gid); err != nil {
		return nil, err
	}
	return p, nil
}

// files are what the image needs for the package's rules to act: the
// rules at their installed paths, the group in /etc/group (and the
// unprivileged user in /etc/passwd), and udevadm with the libraries it
// loads, written into build.
func (p *Package) files(build string) ([]initramfs.File, error) {
	var files []initramfs.File
	for _, r := range p.Rules {
		files = append(files, initramfs.File{Src: r, Dst: r})
	}
	etc := map[string]string{
		"group": fmt.Sprintf("root:x:0:\n%s:x:%d:\nnogroup:x:%d:\n", p.Group, p.GID, guestproto.Nobody),
		"passwd": fmt.Sprintf("root:x:0:0:root:/:/bin/sh\nnobody:x:%d:%d:nobody:/nonexistent:/bin/false\n",
			guestproto.Nobody, guestproto.Nobody),
	}
	for name, text := range etc {
		f := filepath.Join(build, "etc-"+name)
		if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
			return nil, err
		}
		files = append(files, initramfs.File{Src: f, Dst: "/etc/" + name})
	}
	libs, err := sharedLibraries(udevadmHost)
	if err != nil {
		return nil, err
	}
	files = append(files, initramfs.File{Src: udevadmHost, Dst: guestproto.UdevadmPath})
	for _, l := range libs {
		// The image keeps a symbolic link as one, and most of these are
		// links (on a merged-/usr system through /lib itself): each goes
		// in as the file it resolves to, at the path the loader asks for.
		real, err := filepath.EvalSymlinks(l)
		if err != nil {
			return nil, err
		}
		files = append(files, initramfs.File{Src: real, Dst: l})
	}
	return files, nil
}

// udevadmHost is the distribution's udevadm on this machine (Debian's
// udev package).
const udevadmHost = "/usr/bin/udevadm"

// sharedLibraries are the libraries the dynamic loader maps for bin, and
// the loader itself, by the paths ldd gives.
func sharedLibraries(bin string) ([]string, error) {
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %w", bin, err)
	}
	return parseLdd(out), nil
}

// parseLdd reads ldd's lines "name => /path (addr)" and "/path (addr)".
func parseLdd(out []byte) []string {
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		for i, w := range f {
			if strings.HasPrefix(w, "/") && (i == 0 || f[i-1] == "=>") {
				seen[w] = true
			}
		}
	}
	libs := make([]string, 0, len(seen))
	for l := range seen {
		libs = append(libs, l)
	}
	sort.Strings(libs)
	return libs
}
