package main

import (
	"bytes"
	"context"
	"newsletter"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// artifactsDir keeps what the browser test leaves for people to look at;
// its .gitignore keeps it out of the repository.
const artifactsDir = "testdata/artifacts"

// chromiumPath returns Debian's chromium, or skips the test without one.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("Chromium is not installed: apt-get install chromium (the browser test needs it)")
	return ""
}

// mustBrowser starts a headless Chromium with a profile of its own and
// returns a tab, closed at cleanup before the service stops.
func mustBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start the browser without a timeout
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// browserStep runs actions that end in a page load (a click on a submit
// button, a navigation) and fails the test unless the page answers 200.
func browserStep(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(sctx, actions...)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if resp.Status != 200 {
		t.Fatalf("%s: the page answered %d (%s)", what, resp.Status, resp.URL)
	}
}

// fill sets the fields of a form, by CSS selector.
func fill(fields map[string]string) chromedp.Action[chromedp.Void] {
	var steps []chromedp.Action[chromedp.Void]
	for sel, v := range fields {
		steps = append(steps, chromedp.SetValue(chromedp.CSS(sel), v))
	}
	return chromedp.Steps(steps...)
}

// TestBrowserEditorSendsDigest drives the editor pages in a real headless
// Chromium: sign in, create a newsletter, add articles, send the digest to
// 200 subscribers and watch the progress reach 200 of 200. The finished
// page is kept as a screenshot in testdata/artifacts.
func TestBrowserEditorSendsDigest(t *testing.T) {
	t.Parallel()
	ctx := mustBrowser(t)
	h := mustHarness(t)

	browserStep(t, ctx, "open the editor pages", chromedp.Navigate(h.url+"/admin"))
	browserStep(t, ctx, "sign in",
		chromedp.SendKeys(chromedp.CSS("#token"), testToken),
		chromedp.Click(chromedp.CSS(`form[action="/admin/login"] button`)))
	browserStep(t, ctx, "create a newsletter",
		fill(map[string]string{"#nl-id": "daily", "#nl-name": "Daily Brief", "#nl-from": "Daily Brief <news@example.org>"}),
		chromedp.Click(chromedp.CSS(`form[action="/admin/newsletters"] button`)))

	h.seeder().add("reader", 200, newsletter.StatusConfirmed, "daily")
	for i, title := range []string{"Initial steps identified in Istanbul talks", "Rail strike called off after overnight deal"} {
		browserStep(t, ctx, "add an article",
			fill(map[string]string{"#a-url": "https://news.example/2026/story-" + string(rune('a'+i)), "#a-title": title,
				"#a-summary": "What happened, in two sentences.", "#a-section": "World"}),
			chromedp.Click(chromedp.CSS(`form[action="/admin/newsletters/daily/articles"] button`)))
	}
	button := mustText(t, ctx, `form[action="/admin/newsletters/daily/digests"] button`)
	if button != "Send the digest to 200 subscribers" {
		t.Fatalf("send button says %q, want the 200 confirmed subscribers", button)
	}
	browserStep(t, ctx, "send the digest",
		fill(map[string]string{"#d-intro": "Good morning."}),
		chromedp.Click(chromedp.CSS(`form[action="/admin/newsletters/daily/digests"] button`)))
	browserStep(t, ctx, "confirm sending to the whole audience",
		chromedp.Click(chromedp.CSS(`form[action="/admin/newsletters/daily/digests"] button`)))

	progress := waitProgress(t, ctx, "200 of 200", 60*time.Second)
	t.Logf("digest page: %s", progress)
	shot := mustScreenshot(t, ctx, "admin-digest.png")
	t.Logf("screenshot of the finished digest: %s (%d bytes)", shot, fileSize(t, shot))
	h.smtp.WaitFor(t, 200, 10*time.Second)

	html, err := runFor(ctx, 10*time.Second, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil || strings.Contains(html, testToken) {
		t.Fatalf("the editor token shows on the digest page (or the page cannot be read: %v)", err)
	}
}

// TestBrowserQueueMonitor opens the queue monitor behind the sign-in and
// checks that its script application runs under its content policy: it
// lists the queues that it fetched from its API.
func TestBrowserQueueMonitor(t *testing.T) {
	t.Parallel()
	ctx := mustBrowser(t)
	h := mustHarness(t)
	h.mustNewsletter("daily", "Daily Brief")
	h.signup("reader@example.org", "daily") // puts a task on the confirm queue

	browserStep(t, ctx, "open the queue monitor", chromedp.Navigate(h.url+"/admin/queues/"))
	browserStep(t, ctx, "sign in",
		chromedp.SendKeys(chromedp.CSS("#token"), testToken),
		chromedp.Click(chromedp.CSS(`form[action="/admin/login"] button`)))
	browserStep(t, ctx, "open the queue monitor signed in", chromedp.Navigate(h.url+"/admin/queues/"))
	deadline := time.Now().Add(20 * time.Second)
	for {
		text, _ := runFor(ctx, 2*time.Second, chromedp.Text(chromedp.CSS("#root")))
		if strings.Contains(text, "confirm") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queue monitor lists no queue after 20 s; its page shows:\n%s", text)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("screenshot of the queue monitor: %s", mustScreenshot(t, ctx, "admin-queues.png"))
}

// waitProgress waits until the digest page, which reloads itself while the
// digest is under way, says want and that the digest is sent.
func waitProgress(t *testing.T, ctx context.Context, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var progress, status string
	for {
		progress, _ = runFor(ctx, 2*time.Second, chromedp.Text(chromedp.CSS("#progress")))
		status, _ = runFor(ctx, 2*time.Second, chromedp.Text(chromedp.CSS("#status")))
		if strings.Contains(progress, want) && status == "sent" {
			return progress + ", " + status
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s the digest page says %q, status %q; want %q and sent", timeout, progress, status, want)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// runFor runs a query with a timeout: the page may be reloading.
func runFor[T any](ctx context.Context, d time.Duration, a chromedp.Action[T]) (T, error) {
	qctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return chromedp.Run(qctx, a)
}

func mustText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	text, err := runFor(ctx, 10*time.Second, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(text)
}

// mustScreenshot saves a PNG of the whole page under artifactsDir and
// returns its path.
func mustScreenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	png, err := runFor(ctx, 20*time.Second, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 1000 {
		t.Fatalf("screenshot is not a PNG image (%d bytes)", len(png))
	}
	if err := os.MkdirAll(artifactsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(artifactsDir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	return abs
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
