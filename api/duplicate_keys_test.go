package api_test

import (
	"net/http"
	"testing"
)

// TestAmbiguousBodiesAreRefused: a body that names a field twice, in any
// case, is refused with 400 and mails nobody: {"email": A, "EMAIL": B}
// used to mail B (issue 17, item 14). The same holds for forms and for
// the editor API's JSON.
func TestAmbiguousBodiesAreRefused(t *testing.T) {
	e := newEnv(t)
	e.putNewsletter("daily", "Daily")
	for _, body := range []string{
		`{"email":"a@example.org","EMAIL":"b@example.org","newsletters":["daily"]}`,
		`{"email":"a@example.org","email":"b@example.org","newsletters":["daily"]}`,
		`{"Email":"a@example.org","newsletters":["daily"],"eMaIl":"b@example.org"}`,
		`{"email":"a@example.org","newsletters":["daily"],"Newsletters":["daily"]}`,
	} {
		wantJSONError(t, e.postJSON(body), http.StatusBadRequest, "bad_request")
	}
	for _, form := range []string{
		"email=a@example.org&email=b@example.org&newsletter=daily",
		"email=a@example.org&EMAIL=b@example.org&newsletter=daily",
		"email=a@example.org&name=A&name=B&newsletter=daily",
	} {
		wantJSONError(t, e.postForm(form, "Accept", "application/json"), http.StatusBadRequest, "bad_request")
	}
	if r := e.editor("PUT", "/v1/newsletters/weekly", `{"name":"Weekly","NAME":"Other"}`); r.Status != http.StatusBadRequest {
		t.Errorf("PUT newsletter with name twice = %d %s, want 400", r.Status, r.Body)
	}
	e.assertNoSignupState()
	// One of each, and repeated newsletters, stay fine.
	if r := e.postJSON(`{"email":"a@example.org","newsletters":["daily","daily"]}`); r.Status != http.StatusAccepted {
		t.Errorf("a plain signup = %d %s, want 202", r.Status, r.Body)
	}
}
