package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSubscribersImportAndExportCommands(t *testing.T) {
	t.Parallel()
	h := mustServeOnly(t)
	h.mustNewsletter("daily", "Daily Brief")
	env := testEnv(h.redisURL, h.smtp.URL())
	getenv := func(k string) string { return env[k] }
	file := filepath.Join(t.TempDir(), "list.csv")
	os.WriteFile(file, []byte("email,name\nann@example.org,Ann\nnot-an-address,Bad\nbob@example.org,Bob\n"), 0o600)

	var stdout, stderr bytes.Buffer
	if code := run([]string{"subscribers", "import", file, "--newsletter", "daily", "--confirmed"}, getenv, &stdout, &stderr); code != 0 {
		t.Fatalf("import exit %d: %s", code, stderr.String())
	}
	var res struct {
		Imported int
		Skipped  []struct {
			Line   int
			Reason string
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || res.Imported != 2 || len(res.Skipped) != 1 || res.Skipped[0].Line != 3 {
		t.Fatalf("import printed %s (%v)", stdout.String(), err)
	}
	if !strings.Contains(stderr.String(), "3/3 100%") {
		t.Fatalf("no finished progress bar: %q", stderr.String())
	}
	if c := h.counts("daily"); c["confirmed"] != 2 {
		t.Fatalf("counts %v", c)
	}

	stdout.Reset()
	if code := run([]string{"subscribers", "export", "--newsletter", "daily"}, getenv, &stdout, &stderr); code != 0 {
		t.Fatalf("export exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n") // rows in the order of the partitions
	if len(lines) != 3 || !slices.ContainsFunc(lines[1:], func(l string) bool { return strings.HasPrefix(l, "ann@example.org,Ann,daily,confirmed,") }) {
		t.Fatalf("export = %q", stdout.String())
	}
}
