package main

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// configVariables returns every variable LoadConfig reads.
func configVariables() map[string]bool {
	read := map[string]bool{}
	LoadConfig(func(k string) string { read[k] = true; return "" })
	return read
}

// composeTokenEnv is the editor token the compose tests set, as an
// operator must: the compose files have no default.
const composeTokenEnv = "NEWSLETTER_API_TOKENS=an-operator-editor-token-0123456789abcdef"

// TestComposeNeedsAnEditorToken: without NEWSLETTER_API_TOKENS the compose
// files do not start, and say in one line what to set (issue 17, item 2);
// the service itself refuses a token shorter than 32 characters.
func TestComposeNeedsAnEditorToken(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"../../compose.yaml", "../../compose.ha.yaml"} {
		opts, err := cli.NewProjectOptions([]string{file}, cli.WithName("newsletter"),
			cli.WithWorkingDirectory("../.."), cli.WithEnv([]string{}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = opts.LoadProject(context.Background())
		if err == nil || !strings.Contains(err.Error(), "set NEWSLETTER_API_TOKENS to an editor token of at least 32 characters") {
			t.Errorf("%s without NEWSLETTER_API_TOKENS: %v, want the error naming it", file, err)
		}
	}
	env := map[string]string{"NEWSLETTER_REDIS_URL": "redis://127.0.0.1:6379/0", "NEWSLETTER_SECRET": "0123456789abcdef",
		"NEWSLETTER_API_TOKENS": "change-me-editor-token"}
	if _, err := LoadConfig(func(k string) string { return env[k] }); err == nil ||
		!strings.Contains(err.Error(), "NEWSLETTER_API_TOKENS: each editor token must be at least 32 characters") {
		t.Errorf("a 22-character token: %v, want refused", err)
	}
}

func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"../../compose.yaml"}, cli.WithName("newsletter"),
		cli.WithWorkingDirectory("../.."), cli.WithEnv([]string{composeTokenEnv}))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("compose.yaml does not load: %v", err)
	}
	return p
}

func TestComposeRunsTheServiceAsDocumented(t *testing.T) {
	t.Parallel()
	p := loadCompose(t)
	for _, name := range []string{"redis", "mailpit", "newsletter"} {
		if _, err := p.GetService(name); err != nil {
			t.Fatalf("compose.yaml lacks service %s", name)
		}
	}
	redis, _ := p.GetService("redis")
	if cmd := strings.Join(redis.Command, " "); !strings.Contains(cmd, "--appendonly yes") {
		t.Errorf("redis runs %q, want --appendonly yes", cmd)
	}
	if len(redis.Volumes) == 0 || redis.Volumes[0].Type != "volume" || redis.Volumes[0].Target != "/data" {
		t.Errorf("redis keeps /data on %+v, want a named volume", redis.Volumes)
	}
	published := func(s types.ServiceConfig) []uint32 {
		var out []uint32
		for _, port := range s.Ports {
			out = append(out, port.Target)
		}
		return out
	}
	mailpit, _ := p.GetService("mailpit")
	svc, _ := p.GetService("newsletter")
	if ports := published(mailpit); !slices.Contains(ports, 8025) || !slices.Contains(ports, 1025) {
		t.Errorf("mailpit ports %v, want 8025 (UI) and 1025 (SMTP)", ports)
	}
	if ports := published(svc); !slices.Contains(ports, 8080) {
		t.Errorf("service ports %v, want 8080", ports)
	}
	if svc.Build == nil || svc.HealthCheck == nil || redis.HealthCheck == nil {
		t.Errorf("the service must be built from the Dockerfile and every service health-checked")
	}

	known, readme := configVariables(), mustRead(t, "../../README.md")
	for name := range svc.Environment {
		if !known[name] {
			t.Errorf("compose.yaml sets %s, which the service does not read", name)
		}
		if !strings.Contains(readme, "`"+name+"`") {
			t.Errorf("compose.yaml sets %s, which the README does not document", name)
		}
	}
	for _, name := range []string{"NEWSLETTER_REDIS_URL", "NEWSLETTER_SMTP_URL", "NEWSLETTER_SECRET", "NEWSLETTER_API_TOKENS", "NEWSLETTER_BASE_URL"} {
		if svc.Environment[name] == nil {
			t.Errorf("compose.yaml does not set %s", name)
		}
	}
	if url := *svc.Environment["NEWSLETTER_SMTP_URL"]; !strings.Contains(url, "mailpit:1025") {
		t.Errorf("NEWSLETTER_SMTP_URL = %q, want the mail catcher", url)
	}
}

func TestREADMEDocumentsEveryVariable(t *testing.T) {
	t.Parallel()
	readme := mustRead(t, "../../README.md")
	for name := range configVariables() {
		if !strings.Contains(readme, "`"+name+"`") {
			t.Errorf("the service reads %s, which the README does not document", name)
		}
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
