package main

import (
	"bufio"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// mustBuild returns the newsletter binary, built once per test process
// into binDir (made and removed by TestMain).
func mustBuild(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		built.path = filepath.Join(binDir, "newsletter")
		built.out, built.err = exec.Command("go", "build", "-o", built.path, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.path
}

// built is the binary mustBuild made.
var built struct {
	once sync.Once
	path string
	out  []byte
	err  error
}

var listenLine = regexp.MustCompile(`msg="HTTP server listening" addr=(\S+)`)

// startBinary runs the binary in dir with env and returns it with the
// address it listens on, read from its log.
func startBinary(t *testing.T, bin, dir string, env []string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Dir, cmd.Env = dir, env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case a := <-addr:
		return cmd, a
	case <-time.After(20 * time.Second):
		t.Fatal("the binary did not log its listening address within 20s")
	}
	return nil, ""
}

func TestDevModeWithNothingConfigured(t *testing.T) {
	t.Parallel()
	bin, dir := mustBuild(t), t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "NEWSLETTER_HTTP_ADDR=127.0.0.1:0"}
	cmd, addr := startBinary(t, bin, dir, env)

	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `action="/v1/subscriptions"`) || !strings.Contains(string(page), `name="newsletter" value="daily"`) {
		t.Fatalf("demo page = %d without a subscribe form:\n%s", resp.StatusCode, page)
	}

	form := url.Values{"email": {"reader@example.org"}, "newsletter": {"daily"}, "website": {""}}
	req, _ := http.NewRequest("POST", "http://"+addr+"/v1/subscriptions", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("form signup = %d, want 200", resp.StatusCode)
	}

	eml := waitForFile(t, filepath.Join(dir, "outbox"), ".eml", 10*time.Second)
	raw, _ := os.ReadFile(eml)
	if !strings.Contains(string(raw), "reader@example.org") || !strings.Contains(string(raw), "confirm?token") {
		t.Fatalf("outbox message lacks the address or the link:\n%s", raw)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("after SIGTERM: %v, want exit 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the binary did not exit within 15s of SIGTERM")
	}
}

// waitForFile waits for a file with the given suffix to appear in dir.
func waitForFile(t *testing.T, dir, suffix string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), suffix) {
				return filepath.Join(dir, e.Name())
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %s file in %s within %s", suffix, dir, timeout)
	return ""
}
