package mailer_test

import (
	"bytes"
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"newsletter/mailer"
	"newsletter/mailer/mailtest"
)

// oversignedFields are the fields whose names h= must list once more than
// the message has them.
var oversignedFields = []string{"From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post"}

// TestDKIMOversigns sends a digest's kind of message both ways the service
// sends (a Message through Send, as confirmation and welcome emails go,
// and a Template's bytes through SendRaw, as digests go) to a real SMTP
// server, and reads the DKIM-Signature of what it received: h= lists each
// of oversignedFields once more than the message holds it and Feedback-ID
// once, the signature verifies, and a copy of any of those fields added on
// the way makes it fail.
func TestDKIMOversigns(t *testing.T) {
	d, record := mustDKIM(t)
	srv := mailtest.MustStart(t)
	cfg := mustConfig(t, srv)
	cfg.DKIM = d
	s := mailer.NewSMTP(cfg)
	defer s.Close()
	ctx := context.Background()
	m := listMessage("ann@example.net")
	m.Headers["Feedback-ID"] = "d1:daily:digest:example.org"
	if err := s.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := s.SendRaw(ctx, "news@example.org", "bob@example.net", mustTemplateBytes(t, m, "bob@example.net")); err != nil {
		t.Fatal(err)
	}
	for _, r := range srv.WaitFor(t, 2, wait) {
		checkSigned(t, r.Data, record)
		checkOversigned(t, r.Data)
		for _, f := range oversignedFields {
			added := append([]byte(f+": added on the way\r\n"), r.Data...)
			if vs := verify(t, added, record); len(vs) != 1 || vs[0].Err == nil {
				t.Errorf("to %v: a %s field added on the way, and the signature still verifies", r.To, f)
			}
		}
	}
}

// mustTemplateBytes returns the message a Template of m writes for to,
// with its List-Unsubscribe as a personal header, as a digest's is.
func mustTemplateBytes(t *testing.T, m *mailer.Message, to string) []byte {
	t.Helper()
	shared := *m
	shared.Headers = maps.Clone(m.Headers)
	delete(shared.Headers, "List-Unsubscribe")
	tpl, err := mailer.NewTemplate(&shared)
	if err != nil {
		t.Fatal(err)
	}
	p := &mailer.Personal{To: to, Headers: []mailer.Header{{Name: "List-Unsubscribe", Value: "<https://example.org/u/bob>"}}}
	raw, err := tpl.Append(nil, p, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// checkOversigned fails unless the h= tag of raw lists each of
// oversignedFields once more than raw's header has it, and Feedback-ID as
// often as it has it (once).
func checkOversigned(t *testing.T, raw []byte) {
	t.Helper()
	signed := map[string]int{}
	for name := range strings.SplitSeq(signedFields(t, raw), ":") {
		signed[strings.ToLower(name)]++
	}
	present := fieldCounts(raw)
	for _, f := range oversignedFields {
		f = strings.ToLower(f)
		if present[f] != 1 || signed[f] != present[f]+1 {
			t.Errorf("%s: %d in the message, %d in h=; want 1 and 2", f, present[f], signed[f])
		}
	}
	if present["feedback-id"] != 1 || signed["feedback-id"] != 1 {
		t.Errorf("feedback-id: %d in the message, %d in h=; want 1 and 1", present["feedback-id"], signed["feedback-id"])
	}
}

// fieldCounts returns how many fields of each lower-cased name raw's
// header holds.
func fieldCounts(raw []byte) map[string]int {
	header, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	counts := map[string]int{}
	for line := range strings.SplitSeq(string(header), "\r\n") {
		if name, _, ok := strings.Cut(line, ":"); ok && line[0] != ' ' && line[0] != '\t' {
			counts[strings.ToLower(name)]++
		}
	}
	return counts
}
