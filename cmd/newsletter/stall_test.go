package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"newsletter/internal/redistest"
)

// serviceProcess is a `newsletter run` process of a test, working in a
// folder of its own, and what its commands need: the binary and the
// environment.
type serviceProcess struct {
	bin, dir string
	env      []string
	url      string // http://host:port
	log      *processLog
}

var listeningAddr = regexp.MustCompile(`msg="HTTP server listening" addr=(\S+)`)

// startServiceProcess runs `newsletter run` in dir with env (on
// 127.0.0.1:0) and waits until it listens.
func startServiceProcess(t *testing.T, bin, dir string, env []string) *serviceProcess {
	t.Helper()
	env = append(env, "NEWSLETTER_HTTP_ADDR=127.0.0.1:0")
	cmd := exec.Command(bin, "run")
	cmd.Dir, cmd.Env = dir, env
	log := startLogged(t, cmd)
	line := log.waitFor(t, listeningAddr.MatchString, 20*time.Second)
	return &serviceProcess{bin: bin, dir: dir, env: env, url: "http://" + listeningAddr.FindStringSubmatch(line)[1], log: log}
}

// editor sends an editor API request and returns the status and body.
func (s *serviceProcess) editor(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// mustSetUpDaily creates newsletter daily through the API, imports n
// confirmed readers with the import command, and adds an article.
func (s *serviceProcess) mustSetUpDaily(t *testing.T, n int) {
	t.Helper()
	if code, body := s.editor(t, "PUT", "/v1/newsletters/daily", `{"name":"Daily Brief","from":"Daily Brief <news@example.org>"}`); code != 201 {
		t.Fatalf("PUT newsletter = %d %s", code, body)
	}
	csv := "email,name\n"
	for i := range n {
		csv += fmt.Sprintf("reader-%d@example.org,Reader %d\n", i, i)
	}
	os.WriteFile(filepath.Join(s.dir, "subs.csv"), []byte(csv), 0o600)
	code, stdout, stderr := runBinary(t, s.bin, s.dir, s.env, "subscribers", "import", "subs.csv", "--newsletter", "daily", "--confirmed")
	if code != 0 || !strings.Contains(stdout, fmt.Sprintf(`"imported": %d`, n)) {
		t.Fatalf("import: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	article := fmt.Sprintf(`{"articles":[{"url":"https://news.example/stall","title":"Talks resume","summary":"A summary.","published_at":%q}]}`,
		time.Now().Add(-time.Minute).UTC().Format(time.RFC3339))
	if code, body := s.editor(t, "POST", "/v1/articles", article); code != 200 {
		t.Fatalf("POST articles = %d %s", code, body)
	}
}

// cliDigest is the digest JSON that the digest commands print.
type cliDigest struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Counts struct {
		Total, Sent int
	} `json:"counts"`
	LastError *struct {
		Message string    `json:"message"`
		At      time.Time `json:"at"`
	} `json:"last_error"`
}

func mustDigestJSON(t *testing.T, stdout, stderr string) cliDigest {
	t.Helper()
	var d cliDigest
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatalf("stdout %q: %v (stderr %q)", stdout, err, stderr)
	}
	return d
}

// TestStallDigestGoesToTheOutbox is the path of issue 15's silent stall:
// production Redis, no SMTP URL, a fresh folder without ./outbox. The
// digest must be written there, 4 of 4, and the command exit 0.
func TestStallDigestGoesToTheOutbox(t *testing.T) {
	t.Parallel()
	bin, dir := mustBuild(t), t.TempDir()
	svc := startServiceProcess(t, bin, dir, cliEnv(t, redistest.URL(t)))
	svc.mustSetUpDaily(t, 4)

	code, stdout, stderr := runBinary(t, bin, dir, svc.env, "digest", "send", "daily", "--wait")
	d := mustDigestJSON(t, stdout, stderr)
	if code != 0 || d.Status != "sent" || d.Counts.Sent != 4 || d.Counts.Total != 4 {
		t.Fatalf("exit %d, digest %+v, stderr %q; want 0 and 4 of 4 sent", code, d, stderr)
	}
	checkFinalBar(t, stderr, 4)
	emls, _ := filepath.Glob(filepath.Join(dir, "outbox", "*.eml"))
	if len(emls) != 4 {
		t.Fatalf("%d .eml files in ./outbox, want 4", len(emls))
	}
	line := svc.log.waitFor(t, func(l string) bool { return strings.Contains(l, "NEWSLETTER_SMTP_URL is unset") }, time.Second)
	if !strings.Contains(line, "level=WARN") || !strings.Contains(line, filepath.Join(dir, "outbox")) {
		t.Errorf("start line %q, want a WARN naming %s", line, filepath.Join(dir, "outbox"))
	}
}

// TestStallShowsTheLastError sends a digest through a worker that cannot
// write its outbox: the waiting command shows why, digest status says it,
// and the worker logs it.
func TestStallShowsTheLastError(t *testing.T) {
	t.Parallel()
	bin, dir := mustBuild(t), t.TempDir()
	os.WriteFile(filepath.Join(dir, "file"), []byte("not a folder"), 0o600)
	env := cliEnv(t, redistest.URL(t), "NEWSLETTER_OUTBOX_DIR="+filepath.Join(dir, "file", "outbox"))
	svc := startServiceProcess(t, bin, dir, env)
	svc.mustSetUpDaily(t, 2)

	wait := exec.Command(bin, "digest", "send", "daily", "--wait", "--idempotency-key", "stall")
	wait.Dir, wait.Env = dir, svc.env
	progress := startLogged(t, wait)
	line := progress.waitFor(t, func(l string) bool { return strings.Contains(l, "— last error: ") }, time.Minute)
	wait.Process.Kill() // it would wait for ever
	if !strings.Contains(line, "0/2") || !strings.Contains(line, "not a directory") || len([]rune(strings.TrimSpace(line[strings.Index(line, "— last error: "):]))) > 120 {
		t.Errorf("progress line %q, want 0/2 and the cause, cut to about 100 characters", line)
	}

	code, stdout, stderr := runBinary(t, bin, dir, svc.env, "digest", "send", "daily", "--idempotency-key", "stall")
	d := mustDigestJSON(t, stdout, stderr)
	if code != 0 || d.Status != "sending" || d.LastError == nil || !strings.Contains(d.LastError.Message, "not a directory") {
		t.Fatalf("the same digest again: exit %d, %+v", code, d)
	}

	code, stdout, stderr = runBinary(t, bin, dir, svc.env, "digest", "status", d.ID)
	want := regexp.MustCompile(`^last error: .*outbox.*not a directory \(at \d{4}-\d\d-\d\dT[0-9:]+(Z|[+-][0-9:]+)\)\n$`)
	if code != 0 || !want.MatchString(stderr) || !strings.Contains(stdout, `"last_error"`) {
		t.Fatalf("digest status: exit %d, stdout %q, stderr %q; want a line `last error: ... (at TIME)`", code, stdout, stderr)
	}

	if code, body := svc.editor(t, "GET", "/v1/digests/"+d.ID, ""); code != 200 || !strings.Contains(body, "not a directory") {
		t.Errorf("GET /v1/digests/%s = %d %s, want its last_error", d.ID, code, body)
	}
	svc.log.waitFor(t, func(l string) bool {
		return strings.Contains(l, "not a directory") && (strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR"))
	}, 5*time.Second)
}
