package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"newsletter/internal/redistest"
	"newsletter/mailer/mailtest"
)

// oldLinkSite is the built binary running against a test Redis and SMTP
// server, as a client of its HTTP side sees it.
type oldLinkSite struct {
	t    *testing.T
	base string // http://host:port
}

// do sends a request and returns the status and body; header holds name,
// value pairs.
func (s *oldLinkSite) do(method, path, contentType, body string, header ...string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// mustDo sends a request and fails unless it answers want.
func (s *oldLinkSite) mustDo(want int, method, path, contentType, body string, header ...string) string {
	s.t.Helper()
	code, answer := s.do(method, path, contentType, body, header...)
	if code != want {
		s.t.Fatalf("%s %s = %d, want %d:\n%s", method, path, code, want, answer)
	}
	return answer
}

func (s *oldLinkSite) editor(want int, method, path, body string) string {
	s.t.Helper()
	return s.mustDo(want, method, path, "application/json", body, "Authorization", "Bearer "+testToken)
}

// confirm posts a confirmation token as the page's form does, asking for
// accept.
func (s *oldLinkSite) confirm(token, accept string) string {
	s.t.Helper()
	return s.mustDo(200, "POST", "/confirm", "application/x-www-form-urlencoded", "token="+url.QueryEscape(token), "Accept", accept)
}

var listUnsubscribe = regexp.MustCompile(`<(https?://[^>]+/unsubscribe\?token=[^>]+)>`)

// TestOldConfirmationLink follows a reader through the built binary: sign
// up, confirm from the email, get a digest, unsubscribe with one click from
// its List-Unsubscribe header, then use the old confirmation link again. The
// answer says the reader is unsubscribed, as JSON and as a page, and the
// link's page offers no "Confirm subscription" button.
func TestOldConfirmationLink(t *testing.T) {
	smtp := mailtest.MustStart(t)
	bin, dir := mustBuild(t), t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	for k, v := range testEnv(redistest.URL(t), smtp.URL()) {
		env = append(env, k+"="+v)
	}
	_, addr := startBinary(t, bin, dir, env)
	site := &oldLinkSite{t: t, base: "http://" + addr}

	site.editor(201, "PUT", "/v1/newsletters/daily", `{"name":"Daily Brief"}`)
	site.mustDo(202, "POST", "/v1/subscriptions", "application/json", `{"email":"reader@example.org","newsletters":["daily"]}`)
	token := tokenOf(t, confirmLink(t, smtp.WaitFor(t, 1, 20*time.Second)[0]))

	page := site.mustDo(200, "GET", "/confirm?token="+url.QueryEscape(token), "", "")
	if !strings.Contains(page, "Confirm subscription") || !strings.Contains(page, "<strong>Daily Brief</strong>") {
		t.Fatalf("the link's page does not offer to confirm Daily Brief:\n%s", page)
	}
	if got := site.confirm(token, "application/json"); got != `{"newsletters":["daily"],"status":"confirmed"}` {
		t.Fatalf("confirm = %s", got)
	}
	smtp.WaitFor(t, 2, 20*time.Second) // the welcome

	published := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	site.editor(200, "POST", "/v1/articles", `{"articles":[{"url":"https://news.example/2026/12/06/talks",`+
		`"title":"Initial steps identified in Istanbul talks","published_at":"`+published+`"}]}`)
	site.editor(202, "POST", "/v1/newsletters/daily/digests", `{}`)
	unsubscribe := oldLinkUnsubscribeURL(t, smtp.WaitFor(t, 3, 30*time.Second))

	before := time.Now().UTC()
	site.mustDo(200, "POST", strings.TrimPrefix(unsubscribe, testBaseURL), "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click")
	after := time.Now().UTC()

	var answer struct {
		Status         string     `json:"status"`
		Newsletters    []string   `json:"newsletters"`
		UnsubscribedAt *time.Time `json:"unsubscribed_at"`
	}
	raw := site.confirm(token, "application/json")
	if err := json.Unmarshal([]byte(raw), &answer); err != nil {
		t.Fatalf("confirm after unsubscribing = %s: %v", raw, err)
	}
	if answer.Status != "unsubscribed" || strings.Join(answer.Newsletters, ",") != "daily" || answer.UnsubscribedAt == nil ||
		answer.UnsubscribedAt.Before(before.Truncate(time.Second)) || answer.UnsubscribedAt.After(after) {
		t.Fatalf("confirm after unsubscribing = %s, want unsubscribed from daily between %v and %v", raw, before, after)
	}

	html := site.confirm(token, "text/html")
	said := "You unsubscribed from <strong>Daily Brief</strong> on "
	if !strings.Contains(html, said+before.Format("2 January 2006")+".") && !strings.Contains(html, said+after.Format("2 January 2006")+".") {
		t.Fatalf("the confirm page does not say when the reader unsubscribed:\n%s", html)
	}
	for _, lie := range []string{"Subscription confirmed", "You will receive"} {
		if strings.Contains(html, lie) {
			t.Fatalf("the confirm page says %q after the reader unsubscribed:\n%s", lie, html)
		}
	}
	if !strings.Contains(html, `action="/v1/subscriptions"`) || !strings.Contains(html, `name="newsletter" value="daily"`) {
		t.Fatalf("the confirm page offers no way to subscribe again:\n%s", html)
	}

	page = site.mustDo(200, "GET", "/confirm?token="+url.QueryEscape(token), "", "")
	if strings.Contains(page, "Confirm subscription") || strings.Contains(page, `action="/confirm"`) || !strings.Contains(page, said) {
		t.Fatalf("the link's page offers a button that cannot work, or hides the truth:\n%s", page)
	}
	if sub := site.editor(200, "GET", "/v1/subscribers/reader@example.org", ""); !strings.Contains(sub, `"newsletter":"daily","status":"unsubscribed"`) {
		t.Fatalf("subscriber after the old link = %s, want daily unsubscribed", sub)
	}
}

// oldLinkUnsubscribeURL returns the one-click unsubscribe URL of the digest
// among msgs, checking its headers (RFC 8058) and that its body links there
// too.
func oldLinkUnsubscribeURL(t *testing.T, msgs []mailtest.Received) string {
	t.Helper()
	for _, m := range msgs {
		h := m.Header("List-Unsubscribe")
		if h == "" || m.Header("List-Id") == "" { // the digest; the welcome carries List-Unsubscribe too
			continue
		}
		if post := m.Header("List-Unsubscribe-Post"); post != "List-Unsubscribe=One-Click" {
			t.Fatalf("List-Unsubscribe-Post = %q", post)
		}
		match := listUnsubscribe.FindStringSubmatch(h)
		if match == nil || !strings.HasPrefix(match[1], testBaseURL+"/unsubscribe?token=") {
			t.Fatalf("List-Unsubscribe = %q, want a link to %s/unsubscribe", h, testBaseURL)
		}
		if _, parts, err := m.Parts(); err != nil || !strings.Contains(parts["text/plain"], match[1]) {
			t.Fatalf("the digest's text does not carry its unsubscribe link %s (%v)", match[1], err)
		}
		return match[1]
	}
	t.Fatalf("none of %d messages carries List-Unsubscribe", len(msgs))
	return ""
}
