package main

import (
	"bufio"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"newsletter/internal/redistest"
)

func TestLoadConfigNamesEveryBadVariable(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"NEWSLETTER_REDIS_URL":        "127.0.0.1:6379",
		"NEWSLETTER_SMTP_URL":         "mail.example.org:587",
		"NEWSLETTER_SEND_RATE":        "fast",
		"NEWSLETTER_SMTP_CONNECTIONS": "0",
		"NEWSLETTER_DKIM_DOMAIN":      "example.org",
	}
	_, err := LoadConfig(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`NEWSLETTER_REDIS_URL: "127.0.0.1:6379" has no scheme; write redis://127.0.0.1:6379`,
		`NEWSLETTER_SMTP_URL: "mail.example.org:587" has no scheme; write smtp://mail.example.org:587`,
		"NEWSLETTER_SEND_RATE: ",
		"NEWSLETTER_SMTP_CONNECTIONS: ",
		"NEWSLETTER_DKIM_SELECTOR: ",
		"NEWSLETTER_DKIM_KEY_FILE: ",
		"NEWSLETTER_SECRET: ",
		"NEWSLETTER_API_TOKENS: ",
	}
	lines := strings.Split(err.Error(), "\n")
	for _, w := range want {
		n := 0
		for _, l := range lines {
			if strings.HasPrefix(l, w) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d lines start with %q, want 1:\n%s", n, w, err)
		}
	}
	if len(lines) != len(want) {
		t.Errorf("%d lines, want %d (one per variable):\n%s", len(lines), len(want), err)
	}
}

func TestLoadConfigSMTPS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url  string
		port int
		user string
	}{
		{"smtps://mail.example.org", 465, ""},
		{"smtps://news%40example.org:p%3Fss@mail.example.org:2465", 2465, "news@example.org"},
		{"smtps://mail.example.org?tls=tls", 465, ""},
		{"SMTPS://mail.example.org/", 465, ""},
	}
	for _, tt := range tests {
		cfg, err := LoadConfig(func(k string) string { return map[string]string{"NEWSLETTER_SMTP_URL": tt.url}[k] })
		if err != nil {
			t.Errorf("%s: %v", tt.url, err)
			continue
		}
		if s := cfg.SMTP; s.TLS != "tls" || s.Port != tt.port || s.Host != "mail.example.org" || s.Username != tt.user {
			t.Errorf("%s: %+v, want tls=tls on mail.example.org:%d as %q", tt.url, s, tt.port, tt.user)
		}
	}
	for _, bad := range []string{"smtps://mail.example.org?tls=starttls", "smtps://", "smtpx://mail.example.org"} {
		_, err := LoadConfig(func(k string) string { return map[string]string{"NEWSLETTER_SMTP_URL": bad}[k] })
		if err == nil || !strings.HasPrefix(err.Error(), "NEWSLETTER_SMTP_URL: ") {
			t.Errorf("%s: %v, want an error naming NEWSLETTER_SMTP_URL", bad, err)
		}
	}
}

func TestLoadConfigNeverShowsAPassword(t *testing.T) {
	t.Parallel()
	for name, raw := range map[string]string{
		"NEWSLETTER_REDIS_URL": "user:s3cr3t-pw@127.0.0.1:6379",
		"NEWSLETTER_SMTP_URL":  "smtps://user:s3cr3t-pw@mail.example.org:bad",
	} {
		_, err := LoadConfig(func(k string) string { return map[string]string{name: raw}[k] })
		if err == nil || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s=%s: %v, want an error without the password", name, raw, err)
		}
	}
}

// TestBinaryConfigErrors runs the binary with bad environments: each wrong
// variable gets a line of its own, starting with its name.
func TestBinaryConfigErrors(t *testing.T) {
	t.Parallel()
	bin := mustBuild(t)
	dbURL, err := url.Parse(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	dbURL.Path = "/1048576"
	tests := []struct {
		name string
		args []string
		env  []string
		code int
		want []string // the lines of stderr, each a prefix
	}{
		{"every bad variable at once", nil,
			[]string{"NEWSLETTER_REDIS_URL=127.0.0.1:6379", "NEWSLETTER_SMTP_URL=mail.example.org:465", "NEWSLETTER_LOG_FORMAT=xml"}, 2,
			[]string{
				"newsletter: NEWSLETTER_LOG_FORMAT: ",
				`newsletter: NEWSLETTER_REDIS_URL: "127.0.0.1:6379" has no scheme; write redis://127.0.0.1:6379`,
				`newsletter: NEWSLETTER_SMTP_URL: "mail.example.org:465" has no scheme; write smtps://mail.example.org:465`,
				"newsletter: NEWSLETTER_SECRET: required",
				"newsletter: NEWSLETTER_API_TOKENS: required",
			}},
		{"database out of range", []string{"worker"},
			[]string{"NEWSLETTER_REDIS_URL=" + dbURL.String(), "NEWSLETTER_SECRET=a-test-secret-of-enough-length", "NEWSLETTER_API_TOKENS=a-test-editor-token-of-32-characters"}, 1,
			[]string{"newsletter: NEWSLETTER_REDIS_URL: Redis at " + dbURL.Host + " has no database 1048576 (DB index is out of range)"}},
		{"database out of range, one-shot command", []string{"digest", "status", "x"},
			[]string{"NEWSLETTER_REDIS_URL=" + dbURL.String(), "NEWSLETTER_SECRET=a-test-secret-of-enough-length", "NEWSLETTER_API_TOKENS=a-test-editor-token-of-32-characters"}, 1,
			[]string{"newsletter: NEWSLETTER_REDIS_URL: Redis at " + dbURL.Host + " has no database 1048576"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if strings.Contains(tt.name, "range") && os.Getenv(redistest.URLVar) == "" {
				t.Skip("an embedded Redis takes any database number")
			}
			env := append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "NEWSLETTER_HTTP_ADDR=127.0.0.1:0"}, tt.env...)
			code, stdout, stderr := runBinary(t, bin, "", env, tt.args...)
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if code != tt.code || stdout != "" || len(lines) != len(tt.want) {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit %d and %d lines", code, stdout, stderr, tt.code, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("line %d = %q, want it to start with %q", i+1, lines[i], w)
				}
			}
			if strings.Contains(stderr, "does not answer") {
				t.Errorf("a Redis that answers is said not to: %s", stderr)
			}
		})
	}
}

// TestBinaryTakesSMTPS runs a command with an smtps:// URL: the
// configuration is accepted and the command goes on to Redis.
func TestBinaryTakesSMTPS(t *testing.T) {
	t.Parallel()
	bin := mustBuild(t)
	env := cliEnv(t, redistest.URL(t), "NEWSLETTER_SMTP_URL=smtps://news:pw@mail.example.org")
	code, _, stderr := runBinary(t, bin, "", env, "digest", "status", "nope")
	if code != 1 || stderr != "newsletter: no digest \"nope\"\n" {
		t.Fatalf("exit %d, stderr %q; want 1 and only that digest nope does not exist", code, stderr)
	}
}

// TestWorkerWarnsWhenMailGoesToTheOutbox starts a production worker
// without NEWSLETTER_SMTP_URL: it warns, naming the folder in full.
func TestWorkerWarnsWhenMailGoesToTheOutbox(t *testing.T) {
	t.Parallel()
	bin, dir := mustBuild(t), t.TempDir()
	cmd := exec.Command(bin, "worker")
	cmd.Dir = dir
	cmd.Env = cliEnv(t, redistest.URL(t), "NEWSLETTER_OUTBOX_DIR=mail-out")
	log := startLogged(t, cmd)
	want := filepath.Join(dir, "mail-out")
	line := log.waitFor(t, func(l string) bool { return strings.Contains(l, "NEWSLETTER_SMTP_URL") }, 20*time.Second)
	if !strings.Contains(line, "level=WARN") || !strings.Contains(line, want) || !strings.Contains(line, "not sent") {
		t.Fatalf("start line %q, want a WARN that mail is not sent and goes to %s", line, want)
	}
}

// processLog holds the stderr lines of a process, split at "\n" and "\r"
// (progress bars redraw with "\r").
type processLog struct {
	mu    sync.Mutex
	lines []string
	more  chan struct{} // closed and replaced at each new line
	done  bool
}

// startLogged starts cmd, collecting its stderr, and kills it at the
// end of the test.
func startLogged(t *testing.T, cmd *exec.Cmd) *processLog {
	t.Helper()
	r, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l := &processLog{more: make(chan struct{})}
	read := make(chan struct{})
	go func() { defer close(read); l.collect(r) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-read
		cmd.Wait()
		if t.Failed() {
			t.Logf("stderr of %s:\n%s", strings.Join(cmd.Args, " "), l.String())
		}
	})
	return l
}

func (l *processLog) collect(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sc.Split(scanLinesOrRedraws)
	for sc.Scan() {
		l.add(sc.Text(), false)
	}
	l.add("", true)
}

func (l *processLog) add(line string, done bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !done {
		l.lines = append(l.lines, line)
	}
	l.done = l.done || done
	close(l.more)
	l.more = make(chan struct{})
}

// waitFor returns the first line that match accepts, failing the test
// after timeout or when the process ended without one.
func (l *processLog) waitFor(t *testing.T, match func(string) bool, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for seen := 0; ; {
		l.mu.Lock()
		lines, done, more := l.lines, l.done, l.more
		l.mu.Unlock()
		for ; seen < len(lines); seen++ {
			if match(lines[seen]) {
				return lines[seen]
			}
		}
		if done {
			t.Fatalf("the process ended without the line looked for")
		}
		select {
		case <-more:
		case <-deadline:
			t.Fatalf("no such line within %s", timeout)
		}
	}
}

func (l *processLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// scanLinesOrRedraws is bufio.ScanLines that also ends a line at "\r".
func scanLinesOrRedraws(data []byte, atEOF bool) (int, []byte, error) {
	for i, b := range data {
		if b == '\n' || b == '\r' {
			return i + 1, data[:i], nil
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
