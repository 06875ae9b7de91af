package main

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// counts returns the subscriber counts of newsletter id from the editor API.
func (h *harness) counts(id string) map[string]int {
	h.t.Helper()
	code, body := h.editor("GET", "/v1/newsletters", "")
	if code != 200 {
		h.t.Fatalf("GET /v1/newsletters = %d %s", code, body)
	}
	var list struct {
		Newsletters []struct {
			ID          string         `json:"id"`
			Subscribers map[string]int `json:"subscribers"`
		} `json:"newsletters"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		h.t.Fatal(err)
	}
	for _, n := range list.Newsletters {
		if n.ID == id {
			return n.Subscribers
		}
	}
	h.t.Fatalf("newsletter %s not listed: %s", id, body)
	return nil
}

func (h *harness) confirm(token string) (int, string) {
	h.t.Helper()
	return h.do("POST", "/confirm", "application/x-www-form-urlencoded", "token="+url.QueryEscape(token))
}

func TestSignupConfirmWelcome(t *testing.T) {
	t.Parallel()
	h := mustHarness(t)
	h.mustNewsletter("daily", "Daily Brief")

	if code, body := h.signup("reader@example.org", "daily"); code != 202 {
		t.Fatalf("signup = %d %s, want 202", code, body)
	}
	msgs := h.smtp.WaitFor(t, 1, 10*time.Second)
	if got := msgs[0].To; len(got) != 1 || got[0] != "reader@example.org" {
		t.Fatalf("confirmation went to %v", got)
	}
	link := confirmLink(t, msgs[0])
	token := tokenOf(t, link)

	// Following the link, as a mail scanner would, changes nothing.
	if code, body := h.do("GET", "/confirm?token="+url.QueryEscape(token), "", ""); code != 200 || !strings.Contains(body, "Confirm subscription") {
		t.Fatalf("GET confirm = %d, want 200 with a button:\n%s", code, body)
	}
	if c := h.counts("daily"); c["pending"] != 1 || c["confirmed"] != 0 {
		t.Fatalf("after GET: counts %v, want 1 pending, 0 confirmed", c)
	}

	code, body := h.confirm(token)
	if code != 200 || !strings.Contains(body, "Subscription confirmed") {
		t.Fatalf("POST confirm = %d:\n%s", code, body)
	}
	if c := h.counts("daily"); c["pending"] != 0 || c["confirmed"] != 1 {
		t.Fatalf("after POST: counts %v, want 0 pending, 1 confirmed", c)
	}
	welcome := h.smtp.WaitFor(t, 2, 10*time.Second)[1]
	if subj := welcome.Header("Subject"); !strings.Contains(subj, "Welcome") {
		t.Fatalf("second message subject %q, want a welcome", subj)
	}

	// Confirming again answers the same and sends nothing more.
	if code2, body2 := h.confirm(token); code2 != code || body2 != body {
		t.Fatalf("second POST confirm = %d, want the same answer as the first", code2)
	}
	code, jsonBody := h.do("POST", "/confirm", "application/x-www-form-urlencoded", "token="+url.QueryEscape(token), "Accept", "application/json")
	if code != 200 || jsonBody != `{"newsletters":["daily"],"status":"confirmed"}` {
		t.Fatalf("JSON confirm = %d %s", code, jsonBody)
	}
	waitQuiet()
	if n := h.smtp.Count(); n != 2 {
		t.Fatalf("%d messages after confirming again, want 2 (one confirmation, one welcome)", n)
	}
}

func TestSignupAnswersAlike(t *testing.T) {
	t.Parallel()
	h := mustHarness(t)
	h.mustNewsletter("daily", "Daily Brief")

	_, newBody := h.signup("new@example.org", "daily")
	_, pendingBody := h.signup("new@example.org", "daily") // now pending, and held back: one email per 10 minutes
	h.smtp.WaitFor(t, 1, 10*time.Second)
	if code, _ := h.confirm(tokenOf(t, confirmLink(t, h.smtp.Messages()[0]))); code != 200 {
		t.Fatalf("confirm = %d", code)
	}
	h.smtp.WaitFor(t, 2, 10*time.Second) // the welcome
	code, confirmedBody := h.signup("NEW@example.org", "daily")

	if code != 202 || newBody != pendingBody || newBody != confirmedBody {
		t.Fatalf("answers differ:\nnew:       %s\npending:   %s\nconfirmed: %s", newBody, pendingBody, confirmedBody)
	}
	want := `{"status":"pending","message":"Thank you for signing up for this newsletter. We've sent you a confirmation email."}`
	if newBody != want {
		t.Fatalf("body = %s, want %s", newBody, want)
	}
	waitQuiet()
	if n := h.smtp.Count(); n != 2 {
		t.Fatalf("%d messages, want 2: a held-back repeat and a confirmed address get no new confirmation", n)
	}
}

func TestRestartKeepsState(t *testing.T) {
	t.Parallel()
	h := mustHarness(t)
	h.mustNewsletter("daily", "Daily Brief")
	h.mustNewsletter("weekly", "Weekly")
	h.signup("first@example.org", "daily")
	h.signup("second@example.org", "daily", "weekly")
	msgs := h.smtp.WaitFor(t, 2, 10*time.Second)
	var firstToken, secondToken string
	for _, m := range msgs {
		if m.To[0] == "first@example.org" {
			firstToken = tokenOf(t, confirmLink(t, m))
		} else {
			secondToken = tokenOf(t, confirmLink(t, m))
		}
	}
	if code, _ := h.confirm(firstToken); code != 200 {
		t.Fatalf("confirm first = %d", code)
	}
	h.smtp.WaitFor(t, 3, 10*time.Second)

	h.stop()
	h.start()

	if c := h.counts("daily"); c["pending"] != 1 || c["confirmed"] != 1 {
		t.Fatalf("after restart: daily counts %v, want 1 pending and 1 confirmed", c)
	}
	code, body := h.editor("GET", "/v1/subscribers/second@example.org", "")
	if code != 200 || strings.Count(body, `"status":"pending"`) != 2 {
		t.Fatalf("after restart: subscriber = %d %s, want two pending subscriptions", code, body)
	}
	if code, _ := h.confirm(secondToken); code != 200 {
		t.Fatalf("pending token after restart: confirm = %d, want 200", code)
	}
	if c := h.counts("weekly"); c["confirmed"] != 1 {
		t.Fatalf("after confirming: weekly counts %v", c)
	}
}
