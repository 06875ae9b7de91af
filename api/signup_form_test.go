package api_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"newsletter/api"
	"newsletter/templates"
)

// formAround returns the form of page that holds marker.
func formAround(t *testing.T, page, marker string) string {
	t.Helper()
	i := strings.Index(page, marker)
	if i < 0 {
		t.Fatalf("the page lacks %q:\n%s", marker, page)
	}
	start := strings.LastIndex(page[:i], "<form")
	end := strings.Index(page[i:], "</form>")
	if start < 0 || end < 0 {
		t.Fatalf("%q is in no form:\n%s", marker, page)
	}
	return page[start : i+end]
}

// TestSubscribeFormErrorAtField checks the form a mistyped address gets
// back: one plain sentence tied to the address field, the newsletter and
// name it was sent with, and the address it likely meant as a button of the
// same form that submits it, without JavaScript.
func TestSubscribeFormErrorAtField(t *testing.T) {
	e := newEnv(t)
	e.putNewsletter("daily", "Daily Brief")
	e.putNewsletter("weekly", "The Week")

	r := e.postForm("email=reader%40gmial.com&newsletter=weekly&name=Ann")
	wantHTML(t, r, http.StatusUnprocessableEntity, "<title>Error: Subscribe to The Week</title>", "<h1>Subscribe to The Week</h1>",
		`<p class="error" id="signup-email-error">Please, enter correct email address</p>`)
	if n := strings.Count(r.Body, "Please, enter correct email address"); n != 1 {
		t.Errorf("the error is said %d times, want once", n)
	}
	form := formAround(t, r.Body, `id="signup-email"`)
	for _, want := range []string{
		`<input type="email" id="signup-email" name="email" required autocomplete="email" value="reader@gmial.com" aria-invalid="true" aria-describedby="signup-email-error signup-email-suggestion"`,
		`<input type="hidden" name="newsletter" value="weekly">`, `<input type="hidden" name="name" value="Ann">`,
		`id="signup-email-suggestion">Did you mean <strong>reader@gmail.com</strong>?`,
		`<button type="submit" name="suggested_email" value="reader@gmail.com" class="secondary">Use reader@gmail.com</button>`,
	} {
		if !strings.Contains(form, want) {
			t.Errorf("the form lacks %s:\n%s", want, form)
		}
	}
	if strings.Contains(form, `value="daily"`) {
		t.Errorf("the form offers a newsletter the reader did not choose:\n%s", form)
	}
	// Enter in the field submits the form's first button: Subscribe, with
	// the address as typed; the suggestion comes after it.
	if strings.Index(form, `<button type="submit">Subscribe</button>`) > strings.Index(form, `name="suggested_email" value="reader@gmail.com"`) {
		t.Errorf("the suggestion button comes before Subscribe, so Enter would submit the suggestion:\n%s", form)
	}

	// Pressing the suggestion sends the field and the button; the button wins.
	wantHTML(t, e.postForm("newsletter=weekly&name=Ann&email=reader%40gmial.com&website=&suggested_email=reader%40gmail.com"),
		http.StatusOK, "Check your inbox to confirm")
	if s := e.subscriber("reader@gmail.com"); len(s.Subscriptions) != 1 || s.Subscriptions[0].Newsletter != "weekly" {
		t.Fatalf("after the suggestion: %+v, want a pending subscription to weekly", s)
	}

	plain := e.postForm("email=reader&newsletter=daily")
	wantHTML(t, plain, http.StatusUnprocessableEntity, `aria-invalid="true" aria-describedby="signup-email-error" autofocus>`,
		`<input type="hidden" name="newsletter" value="daily">`)
	if strings.Contains(plain.Body, "Did you mean") {
		t.Errorf("an address without a likely fix gets a suggestion:\n%s", plain.Body)
	}
}

// TestSubscribeFormNewsletterError checks that a missing choice of
// newsletter is said once, at the choice.
func TestSubscribeFormNewsletterError(t *testing.T) {
	e := newEnv(t)
	e.putNewsletter("daily", "Daily Brief")
	e.putNewsletter("weekly", "The Week")
	r := e.postForm("email=reader%40example.org&newsletter=nope")
	wantHTML(t, r, http.StatusUnprocessableEntity, `<fieldset aria-describedby="signup-newsletter-error">`,
		`<p class="error" id="signup-newsletter-error">Please choose a newsletter to subscribe to.</p>`,
		`name="newsletter" value="daily"`, `name="newsletter" value="weekly"`, `value="reader@example.org"`)
	if strings.Contains(r.Body, `aria-invalid="true" aria-describedby="signup-email-error"`) {
		t.Errorf("the address is marked wrong:\n%s", r.Body)
	}
}

// TestThankYouSaysWhatHappened checks that the answer to a form signup says
// the subscription waits for the reader's confirmation.
func TestThankYouSaysWhatHappened(t *testing.T) {
	e := newEnv(t)
	e.putNewsletter("daily", "Daily Brief")
	r := e.postForm("email=reader%40example.org&newsletter=daily")
	wantHTML(t, r, http.StatusOK, "<title>Check your inbox to confirm</title>", "<h1>Check your inbox to confirm</h1>",
		"Thank you for signing up for this newsletter. We&#39;ve sent you a confirmation email.",
		"follow its link to confirm your subscription", "7 days")
	if strings.Contains(r.Body, "Successfully subscribed") {
		t.Errorf("the page says the reader is subscribed while the subscription waits:\n%s", r.Body)
	}
}

// oldErrorPage is pages/error.html.tmpl as sites may have copied it into
// NEWSLETTER_TEMPLATES_DIR before the form had a template of its own.
const oldErrorPage = `{{define "content"}}
<h1>{{.Heading}}</h1>
<p class="error" role="alert">{{.Message}}</p>
{{with .Suggestion}}<p>Did you mean <strong>{{.}}</strong>?</p>{{end}}
{{if .Newsletters}}<form method="post" action="/v1/subscriptions">
{{range .Newsletters}}<input type="hidden" name="newsletter" value="{{.ID}}">{{end}}
<label for="email">{{if .AskNewLink}}Enter your email to get a new link{{else}}Enter your email to subscribe{{end}}</label>
<input type="email" id="email" name="email" required value="{{.Email}}">
</form>{{end}}
{{end}}`

// TestOldErrorPageOverride checks that an error page copied from an
// earlier version into the templates folder still renders.
func TestOldErrorPageOverride(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "pages"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pages", "error.html.tmpl"), []byte(oldErrorPage), 0o644); err != nil {
		t.Fatal(err)
	}
	tpl, err := templates.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := newEnvWith(t, t.Output(), func(cfg *api.Config, _ *redis.Client) { cfg.Templates = tpl })
	e.putNewsletter("daily", "Daily Brief")
	wantHTML(t, e.postForm("email=reader%40gmial.com&newsletter=daily"), http.StatusUnprocessableEntity,
		"Did you mean <strong>reader@gmail.com</strong>?", `value="reader@gmial.com"`, `name="newsletter" value="daily"`)
	wantHTML(t, e.postToken("/confirm", "garbage", "text/html"), http.StatusBadRequest, "Enter your email to get a new link")
}
