package report

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// ErrNoBrowser means no Chromium was found to open a page with.
var ErrNoBrowser = errors.New("no chromium or chromium-browser on PATH (apt-get install chromium)")

// Browser starts a headless Chromium for ctx's lifetime, with the flags
// that keep it off the network and out of the user's profile. Cancel the
// returned context to stop it.
func Browser(ctx context.Context) (context.Context, context.CancelFunc, error) {
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		return nil, nil, ErrNoBrowser
	}
	profile, err := os.MkdirTemp("", "kbus-rig-chromium-")
	if err != nil {
		return nil, nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	return bctx, func() {
		cancelBrowser()
		cancelAlloc()
		os.RemoveAll(profile)
	}, nil
}

// FileURL is the file:// address of a local page.
func FileURL(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return (&url.URL{Scheme: "file", Path: abs}).String(), nil
}

// open starts a headless Chromium with page opened in it; cancel stops it.
func open(ctx context.Context, page string) (context.Context, context.CancelFunc, error) {
	bctx, cancel, err := Browser(ctx)
	if err != nil {
		return nil, nil, err
	}
	u, err := FileURL(page)
	if err == nil {
		err = chromedp.Do(bctx, chromedp.Navigate(u))
	}
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("opening %s: %w", page, err)
	}
	return bctx, cancel, nil
}

// Screenshot opens a page in headless Chromium and writes a PNG of all of
// it to png.
func Screenshot(ctx context.Context, page, png string) error {
	bctx, cancel, err := open(ctx, page)
	if err != nil {
		return err
	}
	defer cancel()
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		return fmt.Errorf("screenshot of %s: %w", page, err)
	}
	return os.WriteFile(png, shot, 0o644)
}

// PDF opens a page in headless Chromium, opens every collapsed part
// (details) so that the paper holds all of it, and prints it to pdf on A4
// with its backgrounds (the verdict's colour). The sign-off block sits
// under the verdict, so it is on the first page.
func PDF(ctx context.Context, page, pdf string) error {
	bctx, cancel, err := open(ctx, page)
	if err != nil {
		return err
	}
	defer cancel()
	openAll := chromedp.Evaluate[Void](`document.querySelectorAll('details').forEach(d => { d.open = true })`)
	if err := chromedp.Do(bctx, openAll); err != nil {
		return fmt.Errorf("opening the parts of %s: %w", page, err)
	}
	yes := true
	res, err := chromedp.Run(bctx, func(ctx context.Context, t *chromedp.Target) (cdppage.PrintToPDFResult, error) {
		return cdp.Call(ctx, t, cdppage.PrintToPDF, cdppage.PrintToPDFParams{PrintBackground: &yes,
			PaperWidth: 8.27, PaperHeight: 11.69, GenerateDocumentOutline: &yes})
	})
	if err != nil {
		return fmt.Errorf("printing %s: %w", page, err)
	}
	return os.WriteFile(pdf, res.Data, 0o644)
}

// Void is chromedp's "no value".
type Void = chromedp.Void
