package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"newsletter/api"
	"newsletter/internal/redistest"
	"newsletter/mailer/mailtest"
)

// TestBrowserEmbedBoxes drives two sign-up boxes, pasted as GET /embed/{id}
// gives them into a news site's page of another origin, in a headless
// Chromium: a bad address gets the service's sentence next to the field of
// that box only; a mistyped one its suggestion, taken with one click; the
// thank-you message replaces the box and takes the focus; the other box
// works from the keyboard alone. The box's own page runs the script under
// the service's content policy. With JavaScript off, the same page posts
// the plain form and lands on the service's thank-you page. Each signup
// gets its confirmation email.
func TestBrowserEmbedBoxes(t *testing.T) {
	t.Parallel()
	ctx := mustBrowser(t)
	site := mustNewsSite(t)
	h := mustEmbedHarness(t, site.origin)
	h.mustNewsletter("daily", "Daily Brief")
	h.mustNewsletter("weekly", "The Week")
	site.serve(sitePage(h.snippet("daily"), h.snippet("weekly")))

	browserStep(t, ctx, "open the site's page", chromedp.Navigate(site.origin+"/"))
	waitJS(t, ctx, "the script takes over both boxes", `document.querySelectorAll("form[data-nl-ready]").length === 2`)

	submitAddress(t, ctx, "daily", "not-an-address")
	waitJS(t, ctx, "the error shows", `box("daily", ".nl-status.nl-error") !== null`)
	wantJS(t, ctx, "the service's sentence, next to the field of that box, which has the focus",
		`box("daily", ".nl-status").textContent === "Please, enter correct email address" &&
		 box("daily", ".nl-status").previousElementSibling.contains(box("daily", "input[name=email]")) &&
		 box("daily", "input[name=email]").getAttribute("aria-invalid") === "true" &&
		 box("daily", "input[name=email]").getAttribute("aria-describedby") === box("daily", ".nl-status").id &&
		 document.activeElement === box("daily", "input[name=email]")`)
	wantJS(t, ctx, "the other box untouched", untouched("weekly"))
	wantJS(t, ctx, "the page stays where it is", fmt.Sprintf(`location.origin === %q`, site.origin))

	submitAddress(t, ctx, "daily", "reader@gmial.com")
	waitJS(t, ctx, "the suggestion shows", `box("daily", ".nl-use") !== null`)
	wantJS(t, ctx, "the suggestion as a button", `box("daily", ".nl-use").textContent === "Use reader@gmail.com" &&
		box("daily", ".nl-status").textContent.includes("Did you mean reader@gmail.com?")`)
	t.Logf("screenshot of the suggestion: %s", mustScreenshot(t, ctx, "embed-suggestion.png"))
	browserDo(t, ctx, "take the suggestion", chromedp.Click(`#box-daily .nl-use`))
	waitJS(t, ctx, "the thank-you message shows", `box("daily", ".nl-status.nl-done") !== null`)
	wantJS(t, ctx, "the thank-you message in place of the box, focused",
		fmt.Sprintf(`box("daily", ".nl-status").textContent === %q && !box("daily", ".nl-error") &&
		 document.activeElement === box("daily", ".nl-status") &&
		 box("daily", "input[name=email]").value === "reader@gmail.com" &&
		 box("daily", "input[name=email]").closest("label").hidden && !box("daily", ".nl-title").hidden`, api.ThankYou))
	wantJS(t, ctx, "the other box untouched", untouched("weekly"))

	// The keyboard alone: Tab from the message reaches the next box's field.
	browserDo(t, ctx, "press Tab", chromedp.KeyEvent(kb.Tab))
	waitJS(t, ctx, "Tab focuses the next box's address field", `document.activeElement === box("weekly", "input[name=email]")`)
	browserDo(t, ctx, "type and press Enter", chromedp.KeyEvent("ann@example.org"), chromedp.KeyEvent(kb.Enter))
	waitJS(t, ctx, "the thank-you message shows", `box("weekly", ".nl-status.nl-done") !== null`)
	wantJS(t, ctx, "the focus on the thank-you message", fmt.Sprintf(
		`document.activeElement === box("weekly", ".nl-status") && box("weekly", ".nl-status").textContent === %q`, api.ThankYou))
	t.Logf("screenshot of the boxes: %s", mustScreenshot(t, ctx, "embed-boxes.png"))
	wantRecipients(t, h.smtp.WaitFor(t, 2, 20*time.Second), "ann@example.org", "reader@gmail.com")
	if source := h.consentSource("reader@gmail.com"); source != site.origin+"/" {
		t.Errorf("consent source = %q, want the site's page", source)
	}

	// The box's own page: its preview runs under the service's policy.
	browserStep(t, ctx, "open the box's page", chromedp.Navigate(h.url+"/embed/daily"))
	waitJS(t, ctx, "the preview's script runs", `document.querySelector(".signup-box form[data-nl-ready]") !== null`)
	browserDo(t, ctx, "send the preview", chromedp.SetValue(`.signup-box input[name=email]`, "bad"), chromedp.Click(`.signup-box button[type=submit]`))
	waitJS(t, ctx, "the preview answers in place", `document.querySelector(".signup-box .nl-status.nl-error").textContent === "Please, enter correct email address"`)
	t.Logf("screenshot of the box's page: %s", mustScreenshot(t, ctx, "embed-page.png"))

	// JavaScript off: the plain form posts to the service.
	browserDo(t, ctx, "turn JavaScript off", disableScripts())
	browserStep(t, ctx, "open the site's page without JavaScript", chromedp.Navigate(site.origin+"/"))
	attrs, err := runFor(ctx, 10*time.Second, chromedp.Attributes(`#box-weekly form`))
	if _, ready := attrs["data-nl-ready"]; err != nil || ready {
		t.Fatalf("form attributes = %v (%v): the script ran with JavaScript off", attrs, err)
	}
	browserStep(t, ctx, "send the plain form",
		chromedp.SendKeys(`#box-weekly input[name=email]`, "noscript@example.org"),
		chromedp.Click(`#box-weekly button[type=submit]`))
	if loc, _ := runFor(ctx, 5*time.Second, chromedp.Location()); loc != h.url+"/v1/subscriptions" {
		t.Errorf("the form landed on %q, want the service's %s/v1/subscriptions", loc, h.url)
	}
	if heading := mustText(t, ctx, "h1"); heading != "Check your inbox to confirm" {
		t.Errorf("the service's page says %q, want its thank-you page", heading)
	}
	wantRecipients(t, h.smtp.WaitFor(t, 3, 20*time.Second), "ann@example.org", "noscript@example.org", "reader@gmail.com")
}

// newsSite is a news site, serving its page from an origin of its own:
// localhost, while the service is at 127.0.0.1, so another site.
type newsSite struct {
	srv    *httptest.Server
	origin string
}

// mustNewsSite reserves the site's port, so that its origin is known before
// the service starts, and closes it at cleanup.
func mustNewsSite(t *testing.T) *newsSite {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	return &newsSite{srv: srv, origin: fmt.Sprintf("http://localhost:%d", srv.Listener.Addr().(*net.TCPAddr).Port)}
}

// serve starts the site with page at /.
func (s *newsSite) serve(page string) {
	s.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	})
	s.srv.Start()
}

// sitePage is an article page of the site with a sign-up box in its text
// and one at its end.
func sitePage(first, second string) string {
	return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Initial steps identified</title></head><body><main>
<h1>'Initial steps' identified: US comments on Istanbul talks</h1>
<p>U.S.-Russia talks in Istanbul on Feb. 27 were "constructive", the State Department said.</p>
<aside id="box-daily">` + first + `</aside>
<p>The discussions concluded after more than six hours without comments for the press.</p>
<aside id="box-weekly">` + second + `</aside>
</main></body></html>`
}

// mustEmbedHarness starts the whole service on a port chosen first, so
// that its base URL, which the boxes post to, is where it listens, and
// lets the site's origin post to it.
func mustEmbedHarness(t *testing.T, siteOrigin string) *harness {
	t.Helper()
	addr := loopbackAddr(t)
	h := &harness{t: t, smtp: mailtest.MustStart(t), redisURL: redistest.URL(t)}
	h.main = h.run(ModeAll, map[string]string{"NEWSLETTER_HTTP_ADDR": addr, "NEWSLETTER_BASE_URL": "http://" + addr,
		"NEWSLETTER_ALLOWED_ORIGINS": siteOrigin})
	h.url = "http://" + h.main.Addr()
	return h
}

// loopbackAddr returns a loopback address with a port free a moment ago.
func loopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var snippetArea = regexp.MustCompile(`(?s)<textarea id="embed-snippet"[^>]*>(.*?)</textarea>`)

// snippet returns the box of newsletter id as its embed page gives it to
// copy.
func (h *harness) snippet(id string) string {
	h.t.Helper()
	code, page := h.do("GET", "/embed/"+id, "", "")
	m := snippetArea.FindStringSubmatch(page)
	if code != http.StatusOK || m == nil {
		h.t.Fatalf("GET /embed/%s = %d without a snippet:\n%s", id, code, page)
	}
	return html.UnescapeString(m[1])
}

// consentSource returns the source of the first consent record of email.
func (h *harness) consentSource(email string) string {
	h.t.Helper()
	code, body := h.editor("GET", "/v1/subscribers/"+email, "")
	var s struct {
		Consent []struct{ Source string } `json:"consent"`
	}
	if err := json.Unmarshal([]byte(body), &s); code != http.StatusOK || err != nil || len(s.Consent) == 0 {
		h.t.Fatalf("GET subscriber %s = %d %s (%v)", email, code, body, err)
	}
	return s.Consent[0].Source
}

// boxJS defines box(id, sel): the element sel inside the form of box id.
const boxJS = `var box = (id, sel) => document.querySelector("#box-" + id + " form").querySelector(sel);`

// untouched is a check that box id shows no answer and its fields.
func untouched(id string) string {
	return fmt.Sprintf(`box(%[1]q, ".nl-status").textContent === "" && !box(%[1]q, ".nl-error") &&
		!box(%[1]q, "input[name=email]").hasAttribute("aria-invalid") &&
		!box(%[1]q, "input[name=email]").closest("label").hidden`, id)
}

// submitAddress types address into the field of box id and clicks its
// button.
func submitAddress(t *testing.T, ctx context.Context, id, address string) {
	t.Helper()
	browserDo(t, ctx, "send "+address+" in box "+id,
		chromedp.SetValue(`#box-`+id+` input[name=email]`, address),
		chromedp.Click(`#box-`+id+` button[type=submit]`))
}

// browserDo runs actions that do not load a page.
func browserDo(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if _, err := runFor(ctx, 10*time.Second, chromedp.Steps(actions...)); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitJS waits until expr, with box defined, is true in the page.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok, err := runFor(ctx, 2*time.Second, chromedp.Evaluate[bool](boxJS+"\n"+expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so after 15 s (%v): %s", what, err, expr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// wantJS fails unless expr, with box defined, is true in the page now.
func wantJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	ok, err := runFor(ctx, 5*time.Second, chromedp.Evaluate[bool](boxJS+"\n"+expr))
	if err != nil || !ok {
		t.Errorf("%s: not so (%v): %s", what, err, expr)
	}
}

// disableScripts turns JavaScript off for the pages the tab loads next.
func disableScripts() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})
}

// wantRecipients fails unless msgs went to exactly the addresses want,
// one each, sorted.
func wantRecipients(t *testing.T, msgs []mailtest.Received, want ...string) {
	t.Helper()
	var got []string
	for _, m := range msgs {
		got = append(got, m.To...)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("confirmation emails went to %v, want %v", got, want)
	}
	for _, m := range msgs {
		if !strings.Contains(m.Header("Subject"), "onfirm") {
			t.Errorf("message to %v is %q, want a confirmation email", m.To, m.Header("Subject"))
		}
	}
}
