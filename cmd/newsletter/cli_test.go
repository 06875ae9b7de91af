package main

import (
	"bytes"
	"context"
	"errors"
	"newsletter"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"newsletter/internal/redistest"
	"newsletter/subscribers"
)

// cliEnv returns the environment of a one-shot command on redisURL (none:
// nothing configured), with extra variables after it.
func cliEnv(t *testing.T, redisURL string, extra ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	if redisURL != "" {
		env = append(env, "NEWSLETTER_REDIS_URL="+redisURL,
			"NEWSLETTER_SECRET=a-test-secret-of-enough-length", "NEWSLETTER_API_TOKENS="+testToken)
	}
	return append(env, extra...)
}

// runBinary runs bin with args in dir (the test's temp folder when empty)
// and returns its exit code and output; it kills a run longer than a
// minute.
func runBinary(t *testing.T, bin, dir string, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	if dir == "" {
		dir = t.TempDir()
	}
	var out, errOut bytes.Buffer
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("newsletter %s ran over a minute; stderr:\n%s", strings.Join(args, " "), errOut.String())
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// mustNewsletterIn creates newsletter id in the Redis of the test.
func mustNewsletterIn(t *testing.T, id string) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	n := &newsletter.Newsletter{ID: id, Name: "Daily Brief", CreatedAt: now, UpdatedAt: now}
	n.Normalize()
	if _, err := subscribers.NewStore(redistest.Universal(t)).PutNewsletter(context.Background(), n); err != nil {
		t.Fatal(err)
	}
}

func TestCLIHelp(t *testing.T) {
	t.Parallel()
	bin := mustBuild(t)
	env := cliEnv(t, "") // help needs no configuration
	tests := []struct {
		args []string
		want []string // in stdout
	}{
		{[]string{"--help"}, []string{"usage: newsletter", "digest send NEWSLETTER", "subscribers import FILE.csv", "healthcheck"}},
		{[]string{"-h"}, []string{"usage: newsletter", "serve"}},
		{[]string{"help"}, []string{"usage: newsletter", "worker"}},
		{[]string{"-help"}, []string{"usage: newsletter"}},
		{[]string{"help", "digest", "send"}, []string{"newsletter digest send NEWSLETTER", "--wait"}},
		{[]string{"run", "--help"}, []string{"usage: newsletter run"}},
		{[]string{"serve", "--help"}, []string{"usage: newsletter serve"}},
		{[]string{"worker", "-h"}, []string{"usage: newsletter worker"}},
		{[]string{"digest", "--help"}, []string{"newsletter digest send", "newsletter digest status"}},
		{[]string{"digest", "send", "--help"}, []string{"newsletter digest send NEWSLETTER", "--wait", "--subject", "--idempotency-key"}},
		{[]string{"digest", "send", "daily", "--wait", "--help"}, []string{"newsletter digest send NEWSLETTER"}},
		{[]string{"digest", "status", "--help"}, []string{"newsletter digest status ID", "--wait"}},
		{[]string{"subscribers", "--help"}, []string{"newsletter subscribers import", "newsletter subscribers export"}},
		{[]string{"subscribers", "import", "--help"}, []string{"newsletter subscribers import FILE.csv", "--newsletter", "--confirmed"}},
		{[]string{"subscribers", "export", "-h"}, []string{"newsletter subscribers export", "--format", "--newsletter"}},
		{[]string{"healthcheck", "--help"}, []string{"usage: newsletter healthcheck"}},
		{[]string{"help", "help"}, []string{"usage: newsletter help"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runBinary(t, bin, "", env, tt.args...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing on stderr", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
		})
	}
}

// TestCLIHelpCoversEveryCommand checks that each command the help lists
// answers --help, and that the README shows it with each of its flags.
func TestCLIHelpCoversEveryCommand(t *testing.T) {
	t.Parallel()
	readme := mustRead(t, "../../README.md")
	for _, c := range commands {
		var stdout, stderr bytes.Buffer
		args := append(strings.Fields(c.name), "--help")
		if code := run(args, func(string) string { return "" }, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "usage: newsletter") || !strings.Contains(stdout.String(), c.name) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, stdout.String(), stderr.String())
		}
		if !strings.Contains(readme, "newsletter "+c.name) {
			t.Errorf("the README does not show `newsletter %s`", c.name)
		}
		for _, f := range regexp.MustCompile(`--[a-z-]+`).FindAllString(stdout.String(), -1) {
			if f != "--help" && !strings.Contains(readme, f) {
				t.Errorf("the README does not show %s of newsletter %s", f, c.name)
			}
		}
	}
}

func TestCLIUnknownCommand(t *testing.T) {
	t.Parallel()
	bin := mustBuild(t)
	for _, args := range [][]string{{"launch"}, {"launch", "--help"}, {"help", "launch"}, {"digest", "send"}, {"subscribers", "purge"}, {"serve", "now"}} {
		code, stdout, stderr := runBinary(t, bin, "", cliEnv(t, ""), args...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, "usage: newsletter") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 and the usage on stderr", args, code, stdout, stderr)
		}
	}
}

func TestCLIUnknownIDsAreNamed(t *testing.T) {
	t.Parallel()
	bin := mustBuild(t)
	redisURL := redistest.URL(t)
	mustNewsletterIn(t, "daily")
	csv := filepath.Join(t.TempDir(), "subs.csv")
	os.WriteFile(csv, []byte("email\nann@example.org\n"), 0o600)
	for _, args := range [][]string{
		{"subscribers", "export", "--newsletter", "nope"},
		{"subscribers", "import", csv, "--newsletter", "nope"},
		{"digest", "send", "nope"},
		{"digest", "status", "nope"},
	} {
		code, stdout, stderr := runBinary(t, bin, "", cliEnv(t, redisURL), args...)
		if code == 0 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, `"nope"`) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want non-zero and one line naming \"nope\"", args, code, stdout, stderr)
		}
	}
}

// finalBar matches the last drawing of a finished progress bar: the real
// average rate, and no time left.
var finalBar = regexp.MustCompile(`\] (\d+)/(\d+) 100%  [0-9.]+/s *$`)

func TestCLIImportSaysPendingRowsGetNoEmail(t *testing.T) {
	t.Parallel()
	bin := mustBuild(t)
	redisURL := redistest.URL(t)
	mustNewsletterIn(t, "daily")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "subs.csv"), []byte("email,name\nann@example.org,Ann\nbob@example.org,Bob\ncy@example.org,Cy\nd@example.org,D"), 0o600)

	code, stdout, stderr := runBinary(t, bin, dir, cliEnv(t, redisURL), "subscribers", "import", "subs.csv", "--newsletter", "daily")
	if code != 0 || !strings.Contains(stdout, `"imported": 4`) {
		t.Fatalf("import: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "--confirmed") || !strings.Contains(stderr, "pending") || !strings.Contains(stderr, "no email") {
		t.Errorf("import without --confirmed did not say the rows stay pending and get no email: %q", stderr)
	}
	checkFinalBar(t, stderr, 4)
	counts, err := subscribers.NewStore(redistest.Universal(t)).Counts(context.Background(), "daily")
	if err != nil || counts.Pending != 4 {
		t.Fatalf("counts %v, %v; want 4 pending", counts, err)
	}

	code, _, stderr = runBinary(t, bin, dir, cliEnv(t, redisURL), "subscribers", "import", "--confirmed", "--newsletter", "daily", "subs.csv")
	if code != 0 || strings.Contains(stderr, "pending") {
		t.Fatalf("import --confirmed: exit %d, stderr %q", code, stderr)
	}
	checkFinalBar(t, stderr, 4)

	code, stdout, stderr = runBinary(t, bin, dir, cliEnv(t, redisURL), "subscribers", "export", "--newsletter", "daily")
	if code != 0 || strings.Count(stdout, "\n") != 5 || !strings.Contains(stdout, "ann@example.org,Ann,daily,confirmed,") {
		t.Fatalf("export: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// checkFinalBar checks that the progress bar on stderr ended at n of n
// with its average rate.
func checkFinalBar(t *testing.T, stderr string, n int) {
	t.Helper()
	draws := strings.Split(strings.TrimRight(stderr, "\n"), "\r")
	last := draws[len(draws)-1]
	m := finalBar.FindStringSubmatch(last)
	if m == nil || m[1] != m[2] || m[1] != strconv.Itoa(n) {
		t.Errorf("the progress bar ended with %q, want %d/%d 100%% and a rate", last, n, n)
	}
}

func TestProgressEndsWithAverageRate(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := newProgress(&buf, 4)
	p.draw(4, p.start.Add(333*time.Millisecond))
	if got := buf.String(); !strings.HasSuffix(got, "4/4 100%  12/s") {
		t.Errorf("finished bar %q, want it to end with 4/4 100%%  12/s", got)
	}
	if got := p.line(4, p.start); strings.Contains(got, "0/s") || strings.Contains(got, "left") {
		t.Errorf("bar finished at its start %q: neither a rate of 0 nor a time left", got)
	}
	p.note = "— last error: a rather long complaint"
	p.draw(1, p.start.Add(time.Second))
	p.note = ""
	p.draw(2, p.start.Add(2*time.Second))
	lines := strings.Split(buf.String(), "\r")
	if a, b := len([]rune(lines[len(lines)-2])), len([]rune(lines[len(lines)-1])); b < a {
		t.Errorf("a shorter line (%d) after a longer one (%d) leaves the end of the longer one on screen", b, a)
	}
}
