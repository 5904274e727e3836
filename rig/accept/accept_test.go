package accept

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// newKey makes an ed25519 key pair in dir and returns the private key's
// path and its allowed-signers line for addr.
func newKey(t *testing.T, dir, name, addr string) (key, line string) {
	t.Helper()
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Fatalf("ssh-keygen is needed (openssh-client, scripts/deps.sh): %v", err)
	}
	key = filepath.Join(dir, name)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", addr, "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(pub))
	return key, addr + " " + f[0] + " " + f[1] + "\n"
}

type fixture struct {
	dir, key, otherKey, allowed string
	subject                     Subject
}

func setUp(t *testing.T, open ...Item) fixture {
	dir := t.TempDir()
	keys := t.TempDir()
	key, line := newKey(t, keys, "ada", "ada@example.com")
	other, _ := newKey(t, keys, "mallory", "mallory@example.com")
	allowed := filepath.Join(keys, "allowed_signers")
	if err := os.WriteFile(allowed, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), []byte(`{"RunID":"r1","Verdict":"PASS"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	verdict := "PASS"
	if len(open) > 0 {
		verdict = "FAIL"
	}
	return fixture{dir: dir, key: key, otherKey: other, allowed: allowed, subject: Subject{RunID: "r1",
		Git: "v1.0-3-gabc", Module: "m1", Kernels: map[string]Kernel{"x86_64": {"6.1.0", "k1"}},
		Verdict: verdict, Open: open}}
}

func (f fixture) record(t *testing.T, waivers ...WaiverArg) (*Record, error) {
	b, err := os.ReadFile(filepath.Join(f.dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	return New(f.subject, "report.json", b, "Ada Lovelace <ada@example.com>", "looks good", waivers,
		time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC))
}

func TestASignedAcceptanceVerifies(t *testing.T) {
	f := setUp(t)
	r, err := f.record(t)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := Sign(ctx, r, f.dir, f.key); err != nil {
		t.Fatal(err)
	}
	got, err := Verify(ctx, f.dir, f.allowed)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if got.Summary() != "Accepted by Ada Lovelace <ada@example.com> on 2026-12-07 08:00 UTC, no waivers" {
		t.Errorf("summary %q", got.Summary())
	}
	if got.ReportSHA256 == "" || got.Git != "v1.0-3-gabc" || got.Kernels["x86_64"].ConfigKey != "k1" {
		t.Errorf("record %+v", got)
	}
}

func TestAReportChangedAfterSigningFailsVerify(t *testing.T) {
	f := setUp(t)
	r, _ := f.record(t)
	ctx := context.Background()
	if err := Sign(ctx, r, f.dir, f.key); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(f.dir, "report.json")
	b, _ := os.ReadFile(p)
	b[len(b)-3] ^= 1 // one byte of the verdict
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(ctx, f.dir, f.allowed); !errors.Is(err, ErrEdited) {
		t.Errorf("verify of an edited report: %v, want ErrEdited", err)
	}
}

func TestAnEditedRecordOrAnotherKeyFailsVerify(t *testing.T) {
	ctx := context.Background()
	f := setUp(t)
	r, _ := f.record(t)
	if err := Sign(ctx, r, f.dir, f.otherKey); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(ctx, f.dir, f.allowed); !errors.Is(err, ErrBadSig) {
		t.Errorf("signed with a key not allowed for the reviewer: %v, want ErrBadSig", err)
	}

	if err := Sign(ctx, r, f.dir, f.key); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(f.dir, File)
	b, _ := os.ReadFile(p)
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), "looks good", "looks fine", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(ctx, f.dir, f.allowed); !errors.Is(err, ErrBadSig) {
		t.Errorf("an edited record: %v, want ErrBadSig", err)
	}
	if err := os.Remove(filepath.Join(f.dir, SigFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(ctx, f.dir, f.allowed); !errors.Is(err, ErrBadSig) {
		t.Errorf("no signature: %v, want ErrBadSig", err)
	}
	if _, err := Verify(ctx, t.TempDir(), f.allowed); !errors.Is(err, ErrUnsigned) {
		t.Errorf("no record: %v, want ErrUnsigned", err)
	}
}

func TestAFailingRunIsAcceptedOnlyWithAWaiverForEachItem(t *testing.T) {
	f := setUp(t, Item{"arm64:specs/core/x_test.go:12", "gives GoneAway"}, Item{"§15.2", "Starting"},
		Item{"§16.3", "Fixed."})
	_, err := f.record(t)
	if !errors.Is(err, ErrUnwaived) || !strings.Contains(err.Error(), "3 of them") ||
		!strings.Contains(err.Error(), "arm64:specs/core/x_test.go:12 (gives GoneAway)") {
		t.Errorf("no waivers: %v", err)
	}
	_, err = f.record(t, WaiverArg{"§1*", "tested by the model"})
	if !errors.Is(err, ErrUnwaived) || !strings.Contains(err.Error(), "1 of them") {
		t.Errorf("one left: %v", err)
	}
	_, err = f.record(t, WaiverArg{"§1*", "by the model"}, WaiverArg{"arm64:*", "known"}, WaiverArg{"§18", "x"})
	if err == nil || !strings.Contains(err.Error(), `"§18" matches nothing`) {
		t.Errorf("a waiver of nothing: %v", err)
	}
	r, err := f.record(t, WaiverArg{"§1*", "by the model"}, WaiverArg{"arm64:*", "a known flake, issue 12"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Waivers) != 3 || r.Waivers[0].Reason != "a known flake, issue 12" || r.Waivers[2].ID != "§16.3" {
		t.Errorf("waivers %+v", r.Waivers)
	}
	if !strings.HasSuffix(r.Summary(), ", 3 waivers") {
		t.Errorf("summary %q", r.Summary())
	}
}

func TestWaiversAndReviewersAreChecked(t *testing.T) {
	for _, bad := range []string{"§1", "=why", "§1="} {
		if _, err := ParseWaiver(bad); err == nil {
			t.Errorf("ParseWaiver(%q) accepted", bad)
		}
	}
	if w, err := ParseWaiver(" §16.* = the model covers them "); err != nil || w.Pattern != "§16.*" ||
		w.Reason != "the model covers them" {
		t.Errorf("ParseWaiver: %+v %v", w, err)
	}
	f := setUp(t)
	if _, err := New(f.subject, "report.json", nil, "nobody", "", nil, time.Now()); err == nil {
		t.Error("a reviewer without a mail address accepted")
	}
}

func TestItemsAreSortedByTheirNumbers(t *testing.T) {
	items := []Item{{ID: "§11.1"}, {ID: "target:arm"}, {ID: "§2"}, {ID: "§16.10"}, {ID: "§16.9"}, {ID: "arm64:a_test.go:7"}}
	SortItems(items)
	var got []string
	for _, it := range items {
		got = append(got, it.ID)
	}
	want := "arm64:a_test.go:7 target:arm §2 §11.1 §16.9 §16.10"
	if strings.Join(got, " ") != want {
		t.Errorf("sorted %v, want %s", got, want)
	}
}
