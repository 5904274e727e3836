// Package accept records a reviewer's sign-off of a run: which run
// (report.json's hash), what it tested (git describe, module and kernels),
// its verdict, who accepted it and when, and a waiver for every item that
// is not a pass — a failed spec, a target that did not pass, a requirement
// no spec verifies. The record, acceptance.json beside the report, is
// signed with the reviewer's SSH key in the format Git uses for signed
// commits (ssh-keygen -Y sign), under a namespace of the project's own, and
// verified against an allowed-signers file (docs/reports.md, "Signing a
// run off").
package accept

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Files beside the report, and the namespace signatures are made in: a
// signature of an acceptance can be taken for nothing else (a commit, a
// file), nor another namespace's for an acceptance.
const (
	File      = "acceptance.json"
	SigFile   = File + ".sig"
	Namespace = "acceptance@kbus-rig"
)

// Errors a sign-off or its check ends with.
var (
	ErrUnwaived = errors.New("items that did not pass are not waived")
	ErrEdited   = errors.New("the report is not the one that was signed")
	ErrBadSig   = errors.New("the signature does not verify")
	ErrUnsigned = errors.New("no acceptance")
)

// Item is something in a run that a reviewer can accept only by waiving
// it: ID is what -waive names.
type Item struct {
	ID   string // "arm64:specs/core/x_test.go:12", "target:arm", "§15.2"
	What string
}

// Kernel is what a target ran.
type Kernel struct{ Release, ConfigKey string }

// Subject is the run being signed off, as its report says.
type Subject struct {
	RunID   string
	Git     string
	Dirty   bool
	Module  string
	Kernels map[string]Kernel
	Verdict string
	Open    []Item // every item that needs a waiver
}

// Waiver accepts one open item, with the reviewer's reason.
type Waiver struct {
	ID     string
	What   string
	Reason string
}

// Record is acceptance.json.
type Record struct {
	Report       string // the report's file name, beside this one
	ReportSHA256 string
	Subject
	Reviewer string
	Time     time.Time
	Notes    string   `json:",omitempty"`
	Waivers  []Waiver `json:",omitempty"`
}

// WaiverArg is a -waive argument: "ID=reason", where ID may be a pattern
// naming several items: * stands for any text, ? for one character
// ("§16.*", "arm64:*").
type WaiverArg struct{ Pattern, Reason string }

// matches says whether the pattern p names the item id.
func matches(p, id string) bool {
	q := regexp.QuoteMeta(p)
	q = strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(q)
	ok, _ := regexp.MatchString("^"+q+"$", id)
	return ok
}

// ParseWaiver reads "ID=reason".
func ParseWaiver(s string) (WaiverArg, error) {
	id, reason, ok := strings.Cut(s, "=")
	id, reason = strings.TrimSpace(id), strings.TrimSpace(reason)
	if !ok || id == "" || reason == "" {
		return WaiverArg{}, fmt.Errorf("waiver %q: want ID=reason, both given", s)
	}
	return WaiverArg{Pattern: id, Reason: reason}, nil
}

// New makes the record of reviewer's acceptance of subject, whose report
// is report (its bytes are hashed). Every open item must be waived; a
// waiver that matches nothing is an error too, as it says the reviewer
// accepted something the run does not hold.
func New(subject Subject, report string, reportBytes []byte, reviewer, notes string, waivers []WaiverArg,
	now time.Time) (*Record, error) {
	if _, err := mail.ParseAddress(reviewer); err != nil {
		return nil, fmt.Errorf("reviewer %q: want \"Name <mail>\": %w", reviewer, err)
	}
	sum := sha256.Sum256(reportBytes)
	r := &Record{Report: report, ReportSHA256: hex.EncodeToString(sum[:]), Subject: subject,
		Reviewer: reviewer, Time: now.UTC().Truncate(time.Second), Notes: notes}
	used := make([]bool, len(waivers))
	var unwaived []string
	for _, it := range subject.Open {
		found := false
		for i, w := range waivers {
			if matches(w.Pattern, it.ID) {
				r.Waivers = append(r.Waivers, Waiver{ID: it.ID, What: it.What, Reason: w.Reason})
				used[i], found = true, true
				break
			}
		}
		if !found {
			unwaived = append(unwaived, it.ID+" ("+it.What+")")
		}
	}
	if len(unwaived) > 0 {
		return nil, fmt.Errorf("%w: %d of them; each needs -waive ID=reason:\n  %s", ErrUnwaived, len(unwaived),
			strings.Join(unwaived, "\n  "))
	}
	for i, w := range waivers {
		if !used[i] {
			return nil, fmt.Errorf("waiver %q matches nothing the run leaves open", w.Pattern)
		}
	}
	return r, nil
}

// Sign writes r as dir/acceptance.json and its signature with the SSH
// private key at key as dir/acceptance.json.sig.
func Sign(ctx context.Context, r *Record, dir, key string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	file := filepath.Join(dir, File)
	if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
		return err
	}
	_ = os.Remove(file + ".sig") // ssh-keygen will not overwrite it
	cmd := exec.CommandContext(ctx, "ssh-keygen", "-q", "-Y", "sign", "-f", key, "-n", Namespace, file)
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.Remove(file)
		return fmt.Errorf("ssh-keygen -Y sign with %s: %w: %s", key, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Read reads dir's acceptance without checking it.
func Read(dir string) (*Record, error) {
	b, err := os.ReadFile(filepath.Join(dir, File))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrUnsigned, dir)
	}
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", File, err)
	}
	return &r, nil
}

// Matches says whether the report beside the record is the one signed.
func (r *Record) Matches(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, r.Report))
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != r.ReportSHA256 {
		return fmt.Errorf("%w: %s changed after it was signed", ErrEdited, r.Report)
	}
	return nil
}

// Verify checks dir's acceptance: its signature by a key allowedSigners
// gives the reviewer's mail address (the format of ssh-keygen's
// ALLOWED SIGNERS, as Git's gpg.ssh.allowedSignersFile), in this package's
// namespace, and the report's hash.
func Verify(ctx context.Context, dir, allowedSigners string) (*Record, error) {
	r, err := Read(dir)
	if err != nil {
		return nil, err
	}
	addr, err := mail.ParseAddress(r.Reviewer)
	if err != nil {
		return nil, fmt.Errorf("%s: reviewer %q: %w", File, r.Reviewer, err)
	}
	file := filepath.Join(dir, File)
	body, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(file + ".sig"); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadSig, SigFile, err)
	}
	cmd := exec.CommandContext(ctx, "ssh-keygen", "-Y", "verify", "-f", allowedSigners, "-I", addr.Address,
		"-n", Namespace, "-s", file+".sig")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%w: by %s in %s: %s", ErrBadSig, addr.Address, allowedSigners,
			strings.TrimSpace(string(out)))
	}
	if err := r.Matches(dir); err != nil {
		return nil, err
	}
	return r, nil
}

// Summary is one line for the page and the terminal: "Accepted by … on …,
// 2 waivers".
func (r *Record) Summary() string {
	s := fmt.Sprintf("Accepted by %s on %s", r.Reviewer, r.Time.Format("2006-01-02 15:04 MST"))
	switch len(r.Waivers) {
	case 0:
		return s + ", no waivers"
	case 1:
		return s + ", 1 waiver"
	default:
		return s + fmt.Sprintf(", %d waivers", len(r.Waivers))
	}
}

// SortItems orders items by ID, numbers by value (§2 before §11), so a
// record lists them the same way every time.
func SortItems(items []Item) {
	sort.SliceStable(items, func(i, j int) bool { return naturalLess(items[i].ID, items[j].ID) })
}

// naturalLess compares a and b with runs of digits compared as numbers.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, _ := strconv.Atoi(a[:da])
			nb, _ := strconv.Atoi(b[:db])
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

// digits is how many digits s starts with.
func digits(s string) int {
	n := 0
	for n < len(s) && n < 9 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
