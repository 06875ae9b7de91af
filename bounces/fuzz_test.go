package bounces_test

import (
	"strings"
	"testing"

	"newsletter/bounces"
)

// FuzzParseReport: whatever a stranger sends to the listener, the parser
// returns a report or an error, never panics, and a report it returns
// names recipients and statuses of bounded size.
func FuzzParseReport(f *testing.F) {
	for _, s := range []string{dsn("a@example.org", "failed", "5.1.1"), dsn("b@example.org", "delayed", "4.2.2"),
		arf("List-Id: <daily.news.example.org>\n"), "Subject: hi\n\nbody\n", "", "Content-Type: multipart/report; boundary=x\n\n--x\n"} {
		f.Add([]byte(strings.ReplaceAll(s, "\n", "\r\n")))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		rep, err := bounces.ParseReport(msg)
		if err != nil {
			return
		}
		if rep.Kind != bounces.ReportDSN && rep.Kind != bounces.ReportComplaint {
			t.Fatalf("kind %q", rep.Kind)
		}
		for _, r := range rep.Recipients {
			if len(r.Recipient) > len(msg) || (r.Permanent() && r.Temporary()) {
				t.Fatalf("recipient %+v", r)
			}
		}
	})
}

// FuzzAddressParse: a recipient address parses only when it is exactly
// what ReturnPath or Unsubscribe makes for the id (and newsletter) it
// parses to, in any letter case.
func FuzzAddressParse(f *testing.F) {
	a, err := bounces.NewAddresses("bounces@bounce.example.org", []string{secret})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{a.ReturnPath(1), a.ReturnPath(1 << 40), a.Unsubscribe(77, "daily"), "bounces+@bounce.example.org",
		"bounces@bounce.example.org", "unsubscribe+aaaa.daily@bounce.example.org", "x@y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		target, ok := a.Parse(addr)
		if !ok {
			return
		}
		var want string
		switch target.Kind {
		case bounces.KindBounce:
			want = a.ReturnPath(target.SubscriberID)
		case bounces.KindUnsubscribe:
			want = a.Unsubscribe(target.SubscriberID, target.Newsletter)
		}
		if !strings.EqualFold(strings.TrimSpace(addr), want) {
			t.Fatalf("Parse(%q) = %+v, which makes %q", addr, target, want)
		}
	})
}
