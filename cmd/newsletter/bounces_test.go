package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"newsletter"
	"newsletter/internal/redistest"
	"newsletter/mailer/mailtest"
)

// TestBounceAfterTheTransaction follows a bounce as it happens with a
// relay: the digest goes out with a tagged envelope sender per reader
// (VERP) and a mailto unsubscribe beside the one-click link; the relay
// accepted it, and later a DSN comes back to that envelope sender through
// the inbound listener (started by run with NEWSLETTER_INBOUND_ADDR) and
// suppresses exactly that reader; a message to the mailto address
// unsubscribes another.
func TestBounceAfterTheTransaction(t *testing.T) {
	t.Parallel()
	h := &harness{t: t, smtp: mailtest.MustStart(t), redisURL: redistest.URL(t)}
	h.main = h.run(ModeAll, map[string]string{"NEWSLETTER_BOUNCE_ADDRESS": "bounces@bounce.example.org", "NEWSLETTER_INBOUND_ADDR": "127.0.0.1:0"})
	h.url = "http://" + h.main.Addr()
	h.mustNewsletter("daily", "Daily Brief")
	readers := h.seeder().add("verp", 3, newsletter.StatusConfirmed, "daily")
	h.postArticles([]string{"Rail strike called off"}, time.Hour)
	code, created := h.createDigest("daily", `{}`)
	if code != 202 || h.waitDigest(created.ID, 30*time.Second).Counts.Sent != 3 {
		t.Fatalf("digest = %d", code)
	}
	digestID := created.ID
	msgs := h.smtp.WaitFor(t, 3, 10*time.Second)
	froms := map[string]string{}
	for _, m := range msgs {
		if !strings.HasPrefix(m.From, "bounces+") || !strings.HasSuffix(m.From, "@bounce.example.org") {
			t.Fatalf("envelope sender %q, want a tagged bounce address", m.From)
		}
		if lu := m.Header("List-Unsubscribe"); !strings.Contains(lu, "<"+testBaseURL+"/unsubscribe?token=") || !strings.Contains(lu, "<mailto:unsubscribe+") {
			t.Fatalf("List-Unsubscribe %q lacks the link or the mailto", lu)
		}
		froms[m.To[0]] = m.From
	}
	if len(froms) != 3 || froms[readers[0]] == froms[readers[1]] {
		t.Fatalf("envelope senders are not one per reader: %v", froms)
	}

	inbound := h.main.inbound.ln.Addr().String()
	var messageID string
	for _, m := range msgs {
		if m.To[0] == readers[0] {
			messageID = m.Header("Message-Id")
		}
	}
	dsn := "From: MAILER-DAEMON@relay.example.net\r\nTo: " + froms[readers[0]] + "\r\nSubject: Undelivered\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nGone.\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.example.net\r\n\r\nFinal-Recipient: rfc822; " + readers[0] +
		"\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n\r\n" +
		"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: " + messageID + "\r\nSubject: Daily Brief\r\n\r\n--b--\r\n"
	mustDeliver(t, inbound, froms[readers[0]], dsn)
	code, body := h.editor("GET", "/v1/suppressions", "")
	if code != 200 || !strings.Contains(body, readers[0]) || strings.Contains(body, readers[1]) {
		t.Fatalf("suppressions after the DSN = %d %s", code, body)
	}

	mailto := between(h.smtp.Messages()[1].Header("List-Unsubscribe"), "<mailto:", "?")
	mustDeliver(t, inbound, "", "From: "+h.smtp.Messages()[1].To[0]+"\r\nTo: "+mailto+"\r\nSubject: unsubscribe\r\n\r\nunsubscribe\r\n", mailto)
	st, _ := h.subscriberStatuses(h.smtp.Messages()[1].To[0])
	if st["daily"] != "unsubscribed" {
		t.Fatalf("after the mailto unsubscribe: %v", st)
	}

	// The third reader leaves by the digest's one-click link; the digest
	// counts it, and the bounce, once each.
	link := between(h.smtp.Messages()[2].Header("List-Unsubscribe"), "<"+testBaseURL, ">")
	for range 2 {
		if code, body := h.do("POST", link, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"); code != 200 {
			t.Fatalf("one-click %s = %d %s", link, code, body)
		}
	}
	var d struct {
		Reports struct {
			BouncedHard  int `json:"bounced_hard"`
			Unsubscribes int `json:"unsubscribes"`
		} `json:"reports"`
	}
	if _, raw := h.editor("GET", "/v1/digests/"+digestID, ""); json.Unmarshal([]byte(raw), &d) != nil || d.Reports.BouncedHard != 1 || d.Reports.Unsubscribes != 1 {
		t.Fatalf("the digest's reports: %+v, want 1 hard bounce and 1 unsubscribe", d.Reports)
	}
}

// mustDeliver sends msg over SMTP to addr for rcpt (the first of to, else
// from the message's own To).
func mustDeliver(t *testing.T, addr, rcpt, msg string, to ...string) {
	t.Helper()
	if len(to) > 0 {
		rcpt = to[0]
	}
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		t.Fatalf("RCPT %s: %v", rcpt, err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// between returns what s holds between the first start and the next end.
func between(s, start, end string) string {
	_, rest, _ := strings.Cut(s, start)
	v, _, _ := strings.Cut(rest, end)
	return v
}
