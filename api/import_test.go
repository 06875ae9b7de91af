package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestImportAndExportEndpoints(t *testing.T) {
	e := newEnv(t)
	e.putNewsletter("daily", "Daily Brief")
	csv := "email,name\nann@example.org,Ann\nnope,Bad\n"
	resp := e.do("POST", "/v1/subscribers/import?newsletter=daily&confirmed=true", strings.NewReader(csv), "Content-Type", "text/csv", "Authorization", "Bearer "+editorToken)
	var res struct {
		Imported int
		Skipped  []struct {
			Line   int
			Reason string
		}
	}
	if err := json.Unmarshal([]byte(resp.Body), &res); err != nil || resp.Status != 200 || res.Imported != 1 || len(res.Skipped) != 1 || res.Skipped[0].Line != 3 || res.Skipped[0].Reason != "invalid_email" {
		t.Fatalf("import = %d %s", resp.Status, resp.Body)
	}
	if r := e.do("POST", "/v1/subscribers/import", strings.NewReader("{}"), "Content-Type", "application/json", "Authorization", "Bearer "+editorToken); r.Status != http.StatusUnsupportedMediaType {
		t.Fatalf("JSON import = %d, want 415", r.Status)
	}
	if r := e.do("POST", "/v1/subscribers/import?newsletter=nosuch", strings.NewReader(csv), "Content-Type", "text/csv", "Authorization", "Bearer "+editorToken); r.Status != 422 {
		t.Fatalf("unknown newsletter = %d, want 422", r.Status)
	}

	// Export, erase, export again: the second answers 404.
	r := e.editor("GET", "/v1/subscribers/ann@example.org/export", "")
	if r.Status != 200 || !strings.Contains(r.Body, `"email":"ann@example.org"`) || !strings.Contains(r.Body, `"action":"import"`) {
		t.Fatalf("export = %d %s", r.Status, r.Body)
	}
	if r := e.editor("DELETE", "/v1/subscribers/ann@example.org", ""); r.Status != 204 {
		t.Fatalf("erase = %d", r.Status)
	}
	if r := e.editor("GET", "/v1/subscribers/ann@example.org/export", ""); r.Status != 404 {
		t.Fatalf("export after erase = %d, want 404", r.Status)
	}
}
