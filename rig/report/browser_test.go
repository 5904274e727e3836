package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kbus-project/kbus/rig/accept"
)

// The run's page opened in headless Chromium: the verdict, the matrix and
// the failing spec are visible, and the filters work in the browser, with
// no server. A screenshot of the page is saved into its report folder (and
// to $KBUS_RIG_SCREENSHOT when set).
func TestThePageInABrowser(t *testing.T) {
	r := failingRun(t)
	r.Compare(greenRun(t))
	dir, _ := render(t, r)
	b := openInBrowser(t, dir)
	bctx, u, eval := b.ctx, b.url, b.eval
	b.open("#matrix")
	visible := func(sel string) string {
		return eval(`Array.from(document.querySelectorAll('` + sel + `')).filter(e => e.offsetParent !== null).map(e => e.innerText.trim()).join('|')`)
	}
	if v := visible("#verdict"); v != "FAIL" {
		t.Errorf("verdict shown: %q", v)
	}
	if m := visible(`#matrix tr[data-target="arm"] td`); !strings.Contains(m, "1/1/0") || !strings.Contains(m, "FAIL") {
		t.Errorf("arm's matrix row shows %q", m)
	}
	if f := visible(".failed-spec"); f != "fails on purpose" {
		t.Errorf("failing spec shown: %q", f)
	}
	all := eval(`String(document.querySelectorAll('tr.spec').length)`)
	if s := visible("#shown"); s != all+" of "+all+" spec(s) shown" {
		t.Errorf("before filtering: %q", s)
	}

	// The "failed only" filter, by a click.
	if err := chromedp.Do(bctx, chromedp.Click("#failed-only")); err != nil {
		t.Fatal(err)
	}
	if rows := visible("tr.spec td:first-child"); rows != "fails on purpose" {
		t.Errorf("failed only shows %q", rows)
	}
	if s := visible("#shown"); s != "1 of "+all+" spec(s) shown" {
		t.Errorf("failed only: %q", s)
	}
	shot(t, bctx, filepath.Join(dir, "index-failed-only.png"))

	// The label filter, with the failed-only box cleared again.
	if err := chromedp.Do(bctx, chromedp.Click("#failed-only"),
		chromedp.SetValue("#label", "industrial"),
		chromedp.Evaluate[Void](`document.getElementById('label').dispatchEvent(new Event('change'))`)); err != nil {
		t.Fatal(err)
	}
	rows := visible("tr.spec td:first-child")
	if rows == "" || strings.Contains(rows, "fails on purpose") || strings.Count(rows, "|") != 4 {
		t.Errorf("label industrial shows %q, want its 5 specs", rows)
	}

	// A screenshot of the whole page as it opens, for a person.
	if err := chromedp.Do(bctx, chromedp.Navigate(u), chromedp.WaitVisible("#matrix")); err != nil {
		t.Fatal(err)
	}
	png := filepath.Join(dir, "index.png")
	shot(t, bctx, png)
	if dst := os.Getenv("KBUS_RIG_SCREENSHOT"); dst != "" {
		b, _ := os.ReadFile(png)
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func shot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 1000 || string(b[1:4]) != "PNG" {
		t.Fatalf("screenshot is not a PNG (%d bytes)", len(b))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The views an acceptance reads, in headless Chromium: how many
// requirements no spec verifies, the sign-off at the top (and void once the
// report changed), and the history with its flaky spec and its new failure.
func TestTheAcceptanceViewsInABrowser(t *testing.T) {
	runs, flaky, broken, fixed := history(t)
	run := runs[2]
	dir := t.TempDir()
	if err := run.WriteJSON(filepath.Join(dir, RunFile)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, RunFile))
	if err != nil {
		t.Fatal(err)
	}
	subject := run.Subject()
	rec, err := accept.New(subject, RunFile, b, "Ada Lovelace <ada@example.com>", "for release 1.4",
		[]accept.WaiverArg{{Pattern: "*", Reason: "known"}}, time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(rec)
	if err := os.WriteFile(filepath.Join(dir, accept.File), js, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeRunPage(dir, run, BuildTrend(runs)); err != nil {
		t.Fatal(err)
	}
	br := openInBrowser(t, dir)
	bctx, text := br.ctx, br.eval
	open := func() { br.open("#signoff") }
	open()
	want := fmt.Sprintf("%d of %d requirements", run.Requirements.NotVerified, run.Requirements.Total)
	if h := text(`document.getElementById('requirements-headline').innerText`); !strings.HasPrefix(h, want) {
		t.Errorf("requirements headline %q, want it to start %q", h, want)
	}
	if s := text(`document.querySelector('#signoff b').innerText`); !strings.HasPrefix(s,
		fmt.Sprintf("Accepted by Ada Lovelace <ada@example.com> on 2026-12-07 09:00 UTC, %d waivers", len(subject.Open))) {
		t.Errorf("sign-off shown: %q", s)
	}
	rows := text(`Array.from(document.querySelectorAll('#trend tr.trend')).map(r => r.className + ':' + r.cells[1].innerText + ':' + r.cells[r.cells.length-1].innerText).join('\n')`)
	lines := strings.Split(rows, "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], broken) || !strings.Contains(lines[0], "failing since 20261203T000000Z") ||
		!strings.HasPrefix(lines[1], "trend flaky:") || !strings.Contains(lines[1], flaky) ||
		!strings.HasPrefix(lines[2], "trend fixed:") || !strings.Contains(lines[2], fixed) || !strings.HasSuffix(lines[2], "fixed in 20261203T000000Z (v1-1-gdef)") {
		t.Errorf("history rows:\n%s", rows)
	}
	shot(t, bctx, filepath.Join(dir, "acceptance.png"))
	pdf := filepath.Join(dir, "page.pdf")
	if err := PDF(context.Background(), filepath.Join(dir, HTMLFile), pdf); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(pdf); err != nil || len(b) < 10000 || string(b[:5]) != "%PDF-" {
		t.Errorf("the page printed to PDF: %d bytes, %v", len(b), err)
	}

	// A report changed after its sign-off voids it on the page.
	if err := os.WriteFile(filepath.Join(dir, RunFile), append(b, ' '), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeRunPage(dir, run, BuildTrend(runs)); err != nil {
		t.Fatal(err)
	}
	open()
	if s := text(`document.querySelector('#signoff').className + ': ' + document.querySelector('#signoff b').innerText`); !strings.HasPrefix(s, "signoff fail: Signed by Ada Lovelace") || !strings.Contains(s, "void") {
		t.Errorf("a void sign-off shows %q", s)
	}
}

// browser is a headless Chromium with a report folder's page to open.
type browser struct {
	t   *testing.T
	ctx context.Context
	url string
}

// openInBrowser starts Chromium for the test (skipping it where there is
// none, unless KBUS_TEST_REQUIRE_TOOLS is set) with dir's page to open.
func openInBrowser(t *testing.T, dir string) *browser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	bctx, stop, err := Browser(ctx)
	if errors.Is(err, ErrNoBrowser) && os.Getenv("KBUS_TEST_REQUIRE_TOOLS") == "" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	u, err := FileURL(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, ctx: bctx, url: u}
}

// open (re)loads the page and waits for sel to show.
func (b *browser) open(sel string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(b.url), chromedp.WaitVisible(sel)); err != nil {
		b.t.Fatal(err)
	}
}

// eval is the string a script on the page gives.
func (b *browser) eval(js string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("%s: %v", js, err)
	}
	return v
}
