package bounces_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"newsletter"
	"newsletter/bounces"
	"newsletter/internal/redistest"
	"newsletter/subscribers"
)

const secret = "a-test-secret-of-enough-length"

// rig is a listener on loopback in front of a subscribers service on the
// test's Redis, with confirmed readers of daily and weekly.
type rig struct {
	addr  string
	svc   *subscribers.Service
	addrs *bounces.Addresses
}

func mustRig(t *testing.T, readers ...string) *rig {
	t.Helper()
	rdb := redistest.Client(t)
	svc := subscribers.NewService(subscribers.NewStore(rdb), nil, slog.New(slog.DiscardHandler))
	var err error
	if svc.Signer, err = subscribers.NewSigner([]string{secret}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, id := range []string{"daily", "weekly"} {
		if _, err := svc.Store.PutNewsletter(ctx, &newsletter.Newsletter{ID: id, Name: id}); err != nil {
			t.Fatal(err)
		}
	}
	csv := "email,newsletters\n"
	for _, r := range readers {
		csv += r + ",daily;weekly\n"
	}
	if res, err := svc.Import(ctx, strings.NewReader(csv), subscribers.ImportOptions{Confirmed: true}); err != nil || res.Imported != len(readers) {
		t.Fatalf("import: %+v, %v", res, err)
	}
	addrs, err := bounces.NewAddresses("bounces@bounce.example.org", []string{secret})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	li := &bounces.Listener{Addresses: addrs, Subscribers: svc, Logger: slog.New(slog.DiscardHandler)}
	done := make(chan error, 1)
	go func() { done <- li.Serve(l) }()
	t.Cleanup(func() {
		l.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &rig{addr: l.Addr().String(), svc: svc, addrs: addrs}
}

// send delivers msg to rcpt with a real SMTP client, as a receiving MTA
// returns a report: plain SMTP, the null reverse path.
func (r *rig) send(rcpt, msg string) error {
	c, err := smtp.Dial(r.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Mail("", nil); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(strings.ReplaceAll(msg, "\n", "\r\n"))); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func (r *rig) id(t *testing.T, email string) int64 {
	t.Helper()
	sub, err := r.svc.Lookup(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return sub.ID
}

func (r *rig) suppressed(t *testing.T, email string) string {
	t.Helper()
	list, _, err := r.svc.Suppressions(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Email == email {
			return s.Source
		}
	}
	return ""
}

func (r *rig) status(t *testing.T, email, nl string) newsletter.Status {
	t.Helper()
	sub, err := r.svc.Lookup(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return sub.StatusOf(nl)
}

// dsn is a delivery status notification about rcpt with action and status.
func dsn(rcpt, action, status string) string {
	return `From: Mail Delivery System <mailer-daemon@mx.example.net>
To: bounces@bounce.example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: text/plain

The mail system could not deliver your message.

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Arrival-Date: Sun, 6 Dec 2026 09:00:00 +0000

Final-Recipient: rfc822; ` + rcpt + `
Original-Recipient: rfc822;` + rcpt + `
Action: ` + action + `
Status: ` + status + `
Diagnostic-Code: smtp; ` + status[:1] + `50 ` + status + ` mailbox problem

--B1
Content-Type: text/rfc822-headers

From: Daily <news@example.org>
To: ` + rcpt + `
Subject: Daily Brief
List-Id: "Daily" <daily.news.example.org>

--B1--
`
}

// arf is a feedback report (abuse) whose original message carries
// originalHeaders.
func arf(originalHeaders string) string {
	return `From: Feedback Loop <fbl@isp.example.net>
To: bounces@bounce.example.org
Subject: FW: Daily Brief
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="B2"

--B2
Content-Type: text/plain

This is an email abuse report.

--B2
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeFBL/1.0
Version: 1

--B2
Content-Type: message/rfc822

` + originalHeaders + `
Hello, the digest.

--B2--
`
}

// TestDSNThroughTheListener: a permanent failure reported to a reader's
// bounce address suppresses the reader; three temporary ones do too; a
// delivered notice changes nothing.
func TestDSNThroughTheListener(t *testing.T) {
	r := mustRig(t, "gone@example.org", "full@example.org", "fine@example.org")
	if err := r.send(r.addrs.ReturnPath(r.id(t, "gone@example.org")), dsn("gone@example.org", "failed", "5.1.1")); err != nil {
		t.Fatal(err)
	}
	if src := r.suppressed(t, "gone@example.org"); src != subscribers.SourceBounce {
		t.Fatalf("after a 5.1.1 DSN: suppressed as %q", src)
	}
	full := r.addrs.ReturnPath(r.id(t, "full@example.org"))
	for i := range 3 {
		if r.suppressed(t, "full@example.org") != "" {
			t.Fatalf("suppressed after %d temporary failures", i)
		}
		if err := r.send(full, dsn("full@example.org", "delayed", "4.2.2")); err != nil {
			t.Fatal(err)
		}
	}
	if src := r.suppressed(t, "full@example.org"); src != subscribers.SourceBounce {
		t.Fatalf("after 3 temporary failures: suppressed as %q", src)
	}
	if err := r.send(r.addrs.ReturnPath(r.id(t, "fine@example.org")), dsn("fine@example.org", "delivered", "2.0.0")); err != nil {
		t.Fatal(err)
	}
	if src := r.suppressed(t, "fine@example.org"); src != "" {
		t.Fatalf("a delivered notice suppressed the reader (%s)", src)
	}
}

// TestComplaintThroughTheListener: an abuse report ends the subscription
// named by the original's List-Id and suppresses the reader; one sent to
// the bare bounce address is attributed by the original's signed
// unsubscribe link.
func TestComplaintThroughTheListener(t *testing.T) {
	r := mustRig(t, "angry@example.org", "other@example.org")
	headers := "From: Daily <news@example.org>\nTo: angry@example.org\nSubject: Daily\nList-Id: \"Daily\" <daily.news.example.org>\n"
	if err := r.send(r.addrs.ReturnPath(r.id(t, "angry@example.org")), arf(headers)); err != nil {
		t.Fatal(err)
	}
	if r.status(t, "angry@example.org", "daily") != newsletter.StatusUnsubscribed || r.status(t, "angry@example.org", "weekly") != newsletter.StatusConfirmed {
		t.Fatalf("after a complaint about daily: daily %s, weekly %s", r.status(t, "angry@example.org", "daily"), r.status(t, "angry@example.org", "weekly"))
	}
	if src := r.suppressed(t, "angry@example.org"); src != subscribers.SourceComplaint {
		t.Fatalf("suppressed as %q", src)
	}
	link := "https://news.example.org/unsubscribe?token=" + r.svc.Signer.UnsubscribeToken(r.id(t, "other@example.org"), "weekly")
	headers = "From: Weekly <news@example.org>\nTo: other@example.org\nSubject: Weekly\nList-Unsubscribe: <" + link + ">\n"
	if err := r.send("bounces@bounce.example.org", arf(headers)); err != nil {
		t.Fatal(err)
	}
	if r.status(t, "other@example.org", "weekly") != newsletter.StatusUnsubscribed || r.suppressed(t, "other@example.org") != subscribers.SourceComplaint {
		t.Fatalf("a complaint to the bare address was not attributed by the unsubscribe link")
	}
}

// TestMailtoUnsubscribe: a message to a reader's mailto unsubscribe
// address unsubscribes the reader from that newsletter only.
func TestMailtoUnsubscribe(t *testing.T) {
	r := mustRig(t, "leaver@example.org")
	to := r.addrs.Unsubscribe(r.id(t, "leaver@example.org"), "weekly")
	if !strings.HasPrefix(to, "unsubscribe+") || !strings.HasSuffix(to, ".weekly@bounce.example.org") {
		t.Fatalf("mailto address %q", to)
	}
	if err := r.send(to, "From: leaver@example.org\nTo: "+to+"\nSubject: unsubscribe\n\nunsubscribe\n"); err != nil {
		t.Fatal(err)
	}
	if r.status(t, "leaver@example.org", "weekly") != newsletter.StatusUnsubscribed || r.status(t, "leaver@example.org", "daily") != newsletter.StatusConfirmed {
		t.Fatalf("after the mailto: weekly %s, daily %s", r.status(t, "leaver@example.org", "weekly"), r.status(t, "leaver@example.org", "daily"))
	}
}

// TestListenerRefusesStrangers: recipients other than the tagged
// addresses, forged or altered tags, and another domain are refused at
// RCPT; mail it cannot attribute is accepted and changes nothing.
func TestListenerRefusesStrangers(t *testing.T) {
	r := mustRig(t, "reader@example.org")
	id := r.id(t, "reader@example.org")
	forger, err := bounces.NewAddresses("bounces@bounce.example.org", []string{"another-secret-entirely"})
	if err != nil {
		t.Fatal(err)
	}
	good := r.addrs.ReturnPath(id)
	at := strings.Index(good, "@")
	altered := good[:at-1] + string(rune('a'+(good[at-1]-'a'+1)%26)) + good[at:]
	for _, rcpt := range []string{"postmaster@bounce.example.org", "someone@example.org", forger.ReturnPath(id),
		altered, strings.Replace(good, "bounce.example.org", "elsewhere.example.org", 1), "bounces+@bounce.example.org"} {
		err := r.send(rcpt, dsn("reader@example.org", "failed", "5.1.1"))
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code != 550 {
			t.Errorf("RCPT %s: %v, want 550", rcpt, err)
		}
	}
	if err := r.send(good, "From: someone@example.net\nSubject: hello\n\nnot a report\n"); err != nil {
		t.Fatalf("a plain message to a good tag: %v", err)
	}
	if src := r.suppressed(t, "reader@example.org"); src != "" {
		t.Fatalf("refused or plain mail suppressed the reader (%s)", src)
	}
	_ = time.Second
}
