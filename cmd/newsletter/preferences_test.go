package main

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"newsletter/mailer/mailtest"
)

var (
	preferencesLinkPattern = regexp.MustCompile(regexp.QuoteMeta(testBaseURL) + `/preferences\?token=([A-Za-z0-9_\-.]+)`)
	addressLinkPattern     = regexp.MustCompile(regexp.QuoteMeta(testBaseURL) + `/preferences/address\?token=([A-Za-z0-9_\-.%]+)`)
	formTokenPattern       = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// messageTo returns the one message received for addr among msgs.
func messageTo(t *testing.T, msgs []mailtest.Received, addr string) mailtest.Received {
	t.Helper()
	var found []mailtest.Received
	for _, m := range msgs {
		if len(m.To) == 1 && m.To[0] == addr {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d messages to %s, want 1", len(found), addr)
	}
	return found[0]
}

// textOf returns the text part of m.
func textOf(t *testing.T, m mailtest.Received) string {
	t.Helper()
	_, parts, err := m.Parts()
	if err != nil {
		t.Fatal(err)
	}
	return parts["text/plain"]
}

// subscriberStatuses looks addr up through the editor API: its statuses by
// newsletter and its consent sources, or nil when there is no such reader.
func (h *harness) subscriberStatuses(addr string) (map[string]string, []string) {
	h.t.Helper()
	code, body := h.editor("GET", "/v1/subscribers/"+url.PathEscape(addr), "")
	if code == 404 {
		return nil, nil
	}
	var sub struct {
		Subscriptions []struct{ Newsletter, Status string }
		Consent       []struct{ Source string }
	}
	if err := json.Unmarshal([]byte(body), &sub); err != nil || code != 200 {
		h.t.Fatalf("GET subscriber %s: %d %v %s", addr, code, err, body)
	}
	st := map[string]string{}
	for _, s := range sub.Subscriptions {
		st[s.Newsletter] = s.Status
	}
	var sources []string
	for _, c := range sub.Consent {
		sources = append(sources, c.Source)
	}
	return st, sources
}

// TestChangeOfAddress follows a change of address as a reader makes it,
// through the emails a real SMTP server receives: from the welcome's
// preferences link, ask for the new address; the new address gets a link
// and the old one a notice; until the link is used the reader stays at the
// old address; the link's page changes nothing; confirmed, the
// subscriptions and the consent history move to the new address and the
// old one is gone; a second click shows the same page and changes nothing.
func TestChangeOfAddress(t *testing.T) {
	t.Parallel()
	h := mustHarness(t)
	h.mustNewsletter("daily", "Daily Brief")
	const oldAddr, newAddr = "mover@example.org", "moved@example.net"
	if code, body := h.signup(oldAddr, "daily"); code != 202 {
		t.Fatalf("signup = %d %s", code, body)
	}
	link := confirmLink(t, h.smtp.WaitFor(t, 1, 10*time.Second)[0])
	if code, body := h.do("POST", "/confirm", "application/x-www-form-urlencoded", "token="+url.QueryEscape(tokenOf(t, link))); code != 200 {
		t.Fatalf("confirm = %d %s", code, body)
	}
	welcome := h.smtp.WaitFor(t, 2, 10*time.Second)[1]
	m := preferencesLinkPattern.FindStringSubmatch(textOf(t, welcome))
	if m == nil {
		t.Fatalf("the welcome has no preferences link:\n%s", textOf(t, welcome))
	}
	prefs := m[1]
	code, page := h.do("GET", "/preferences?token="+prefs, "", "", "Accept", "text/html")
	csrf := formTokenPattern.FindStringSubmatch(page)
	if code != 200 || csrf == nil || !strings.Contains(page, "Daily Brief") {
		t.Fatalf("preference page = %d:\n%s", code, page)
	}

	form := url.Values{"csrf": {csrf[1]}, "action": {"change_email"}, "new_email": {newAddr}}
	code, page = h.do("POST", "/preferences?token="+prefs, "application/x-www-form-urlencoded", form.Encode(), "Accept", "text/html")
	if code != 200 || !strings.Contains(page, "We sent a link to <strong>"+newAddr) {
		t.Fatalf("change of address = %d:\n%s", code, page)
	}
	msgs := h.smtp.WaitFor(t, 4, 10*time.Second)
	notice := textOf(t, messageTo(t, msgs[2:], oldAddr))
	if !strings.Contains(notice, newAddr) || !strings.Contains(notice, "Nothing changes unless") || !strings.Contains(notice, testBaseURL+"/preferences/address/cancel?token=") {
		t.Errorf("the notice to the old address says:\n%s", notice)
	}
	a := addressLinkPattern.FindStringSubmatch(textOf(t, messageTo(t, msgs[2:], newAddr)))
	if a == nil {
		t.Fatalf("no confirmation link in the email to the new address")
	}
	moveToken, _ := url.QueryUnescape(a[1])

	if st, _ := h.subscriberStatuses(oldAddr); st["daily"] != "confirmed" {
		t.Fatalf("before the link is used, the old address is %v; want still confirmed", st)
	}
	if st, _ := h.subscriberStatuses(newAddr); st != nil {
		t.Fatalf("before the link is used, the new address exists: %v", st)
	}
	code, page = h.do("GET", "/preferences/address?token="+url.QueryEscape(moveToken), "", "", "Accept", "text/html")
	if code != 200 || !strings.Contains(page, "Confirm my new address") {
		t.Fatalf("the link's page = %d:\n%s", code, page)
	}
	if st, _ := h.subscriberStatuses(newAddr); st != nil {
		t.Fatalf("opening the link's page moved the reader")
	}

	code, page = h.do("POST", "/preferences/address", "application/x-www-form-urlencoded", "token="+url.QueryEscape(moveToken), "Accept", "text/html")
	if code != 200 || !strings.Contains(page, "your newsletters now go to "+newAddr) {
		t.Fatalf("confirming the change = %d:\n%s", code, page)
	}
	st, sources := h.subscriberStatuses(newAddr)
	if st["daily"] != "confirmed" || !strings.Contains(strings.Join(sources, "|"), "address change from "+oldAddr) || len(sources) < 3 {
		t.Fatalf("the new address: %v, consent sources %q", st, sources)
	}
	if st, _ := h.subscriberStatuses(oldAddr); st != nil {
		t.Fatalf("the old address is still there: %v", st)
	}
	code, page = h.do("POST", "/preferences/address", "application/x-www-form-urlencoded", "token="+url.QueryEscape(moveToken), "Accept", "text/html")
	if _, again := h.subscriberStatuses(newAddr); code != 200 || !strings.Contains(page, newAddr) || len(again) != len(sources) {
		t.Errorf("a second click = %d and %d consent records (was %d); want the same page and nothing added", code, len(again), len(sources))
	}
}
