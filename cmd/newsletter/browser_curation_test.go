package main

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"newsletter"
	"newsletter/articles"
	"newsletter/mailer/mailtest"
)

// storyURL is the URL postArticles gives the article titled title.
func storyURL(title string) string { return "https://news.example/" + url.PathEscape(title) }

// titlesInText returns which of titles the plain-text part of m shows, in
// the order it shows them.
func titlesInText(t *testing.T, m mailtest.Received, titles ...string) []string {
	t.Helper()
	_, parts, err := m.Parts()
	if err != nil {
		t.Fatalf("message to %v: %v", m.To, err)
	}
	text := parts["text/plain"]
	var found []string
	for _, title := range titles {
		if strings.Contains(text, title) {
			found = append(found, title)
		}
	}
	slices.SortFunc(found, func(a, b string) int { return strings.Index(text, a) - strings.Index(text, b) })
	return found
}

// TestBrowserEditorCuratesDigest drives curation in a real headless
// Chromium: on the newsletter page the editor leaves one candidate out,
// numbers the others in an order of their own and marks a lead, sends,
// and every reader gets exactly those articles in that order, lead first;
// then the history page shows the digest with its counts.
func TestBrowserEditorCuratesDigest(t *testing.T) {
	t.Parallel()
	ctx := mustBrowser(t)
	h := mustHarness(t)
	h.mustNewsletter("daily", "Daily Brief")
	h.seeder().add("curated", 3, newsletter.StatusConfirmed, "daily")
	titles := []string{"Alpha story", "Bravo story", "Charlie story", "Delta story"}
	h.postArticles(titles, 10*time.Minute)
	id := func(title string) string { return articles.IDOf(storyURL(title)) }

	browserStep(t, ctx, "open the editor pages", chromedp.Navigate(h.url+"/admin"))
	browserStep(t, ctx, "sign in",
		chromedp.SendKeys(chromedp.CSS("#token"), testToken),
		chromedp.Click(chromedp.CSS(`form[action="/admin/login"] button`)))
	browserStep(t, ctx, "open the newsletter", chromedp.Navigate(h.url+"/admin/newsletters/daily"))
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Click(chromedp.CSS("#pick-" + id("Delta story"))), // checked by default: leave it out
		chromedp.Click(chromedp.CSS("#lead-" + id("Bravo story"))),
		fill(map[string]string{"#order-" + id("Charlie story"): "1", "#order-" + id("Alpha story"): "2",
			"#order-" + id("Bravo story"): "3", "#c-subject": "Curated issue"}),
	}
	if _, err := runFor(ctx, 10*time.Second, chromedp.Steps(steps...)); err != nil {
		t.Fatalf("fill in the curation form: %v", err)
	}
	t.Logf("screenshot of the curation form: %s", mustScreenshot(t, ctx, "admin-curate.png"))
	browserStep(t, ctx, "send the picked articles", chromedp.Click(chromedp.CSS("#c-send")))
	if got := mustText(t, ctx, "h1"); got != "Send to 3 confirmed readers?" {
		t.Fatalf("the confirm page asks %q", got)
	}
	browserStep(t, ctx, "confirm sending",
		chromedp.Click(chromedp.CSS(`form[action="/admin/newsletters/daily/digests"] button`)))
	waitProgress(t, ctx, "3 of 3", 60*time.Second)
	loc, err := runFor(ctx, 5*time.Second, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	digestID := loc[strings.LastIndexByte(loc, '/')+1:]

	msgs := h.smtp.WaitFor(t, 3, 10*time.Second)
	want := []string{"Bravo story", "Charlie story", "Alpha story"}
	for _, m := range msgs {
		if got := titlesInText(t, m, titles...); !slices.Equal(got, want) {
			t.Fatalf("message to %v shows %v, want %v (the lead first, then the editor's order, and not Delta)", m.To, got, want)
		}
	}

	browserStep(t, ctx, "open the history", chromedp.Click(chromedp.CSS(`a[href="/admin/newsletters/daily"]`)))
	browserStep(t, ctx, "open the history", chromedp.Click(chromedp.CSS("#history-link")))
	row := mustText(t, ctx, "#digest-"+digestID)
	sent := mustText(t, ctx, "#digest-"+digestID+` td[data-count="sent"]`)
	if !strings.Contains(row, "Curated issue") || !strings.Contains(row, "sent") || sent != "3" {
		t.Fatalf("history row %q, sent %q; want the subject, status sent and 3 sent", row, sent)
	}
	t.Logf("screenshot of the history: %s", mustScreenshot(t, ctx, "admin-history.png"))
}

// TestScheduledDigestSendsAtItsTime: a digest scheduled a few seconds ahead
// waits, then goes to every reader confirmed by then (one confirmed after
// it was scheduled included); one scheduled and canceled never sends, and
// gives its articles back to the next digest's draft.
func TestScheduledDigestSendsAtItsTime(t *testing.T) {
	t.Parallel()
	h := mustHarness(t)
	h.mustNewsletter("daily", "Daily Brief")
	h.seeder().add("early", 1, newsletter.StatusConfirmed, "daily")
	h.postArticles([]string{"Echo story"}, 10*time.Minute)
	h.postArticles([]string{"Foxtrot story"}, 5*time.Minute)

	at := func(d time.Duration) string { return time.Now().Add(d).UTC().Format(time.RFC3339) }
	code, canceled := h.createDigest("daily", `{"subject":"Never","send_at":"`+at(2*time.Second)+`"}`)
	if code != 202 || canceled.Status != "queued" {
		t.Fatalf("schedule = %d %+v, want 202 queued", code, canceled)
	}
	if code, body := h.editor("POST", "/v1/digests/"+canceled.ID+"/cancel", ""); code != 200 {
		t.Fatalf("cancel = %d %s", code, body)
	}
	_, raw := h.editor("GET", "/v1/newsletters/daily/digests/draft", "")
	var draft struct {
		Articles []struct {
			URL      string `json:"url"`
			Selected bool   `json:"selected"`
		} `json:"articles"`
	}
	if err := json.Unmarshal([]byte(raw), &draft); err != nil || len(draft.Articles) != 2 || !draft.Articles[0].Selected || !draft.Articles[1].Selected {
		t.Fatalf("draft after the cancel = %s; want both articles back", raw)
	}
	body := `{"subject":"Later","articles":["` + storyURL("Foxtrot story") + `"],"send_at":"` + at(4*time.Second) + `"}`
	code, later := h.createDigest("daily", body)
	if code != 202 || later.Status != "queued" || later.Counts.Total != 0 {
		t.Fatalf("schedule = %d %+v, want 202 queued with no audience yet", code, later)
	}
	h.seeder().add("late", 1, newsletter.StatusConfirmed, "daily") // confirms before its time

	done := h.waitDigest(later.ID, 60*time.Second)
	if done.Status != "sent" || done.Counts.Total != 2 || done.Counts.Sent != 2 {
		t.Fatalf("scheduled digest = %+v, want sent to both readers", done)
	}
	msgs := h.smtp.WaitFor(t, 2, 10*time.Second)
	for _, m := range msgs {
		if s := m.Header("Subject"); s != "Later" {
			t.Fatalf("a message has subject %q, want only the digest that was not canceled", s)
		}
	}
	if code, raw := h.editor("GET", "/v1/digests/"+canceled.ID, ""); code != 200 || !strings.Contains(raw, `"status":"canceled"`) {
		t.Fatalf("canceled digest = %d %s", code, raw)
	}
}
