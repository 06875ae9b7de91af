package digests_test

import (
	"net/url"
	"regexp"
	"testing"
	"time"

	"newsletter/digests"
	"newsletter/mailer"
	"newsletter/mailer/mailtest"
)

// TestDigestLinksToPreferences: the fan-out's message (Template and
// Personal) carries the recipient's own preferences link, which names the
// recipient, in both parts.
func TestDigestLinksToPreferences(t *testing.T) {
	d, nl := MustDigest(t, 2)
	signer := MustSigner(t)
	env := digests.NewEnvelope(d, nl, defaultFrom, baseURL, signer)
	tpl, err := env.Template(MustBody(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	var p mailer.Personal
	env.Personal(d, recipient(77), &p)
	data, err := tpl.Append(nil, &p, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, parts, err := mailtest.Received{Data: data}.Parts()
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(regexp.QuoteMeta(baseURL) + `/preferences\?token=[A-Za-z0-9_\-.]+`)
	for _, kind := range []string{"text/plain", "text/html"} {
		found := link.FindString(parts[kind])
		u, _ := url.Parse(found)
		if id, err := signer.ParsePreferencesToken(u.Query().Get("token")); found == "" || err != nil || id != 77 {
			t.Errorf("%s part: preferences link %q names %d (%v); want recipient 77", kind, found, id, err)
		}
	}
}
