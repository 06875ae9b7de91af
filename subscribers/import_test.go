package subscribers_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"newsletter"
	"newsletter/subscribers"
)

// importFile makes a CSV of n rows for newsletter daily, with a bad row at
// every line in bad (email, newsletter or status wrong in turn).
func importFile(n int, bad map[int]bool) []byte {
	var b bytes.Buffer
	b.WriteString("email,name,newsletters,status\n")
	for i := 0; i < n; i++ {
		line := i + 2
		switch {
		case bad[line] && i%3 == 0:
			fmt.Fprintf(&b, "not-an-address-%d,Bad,daily,\n", i)
		case bad[line] && i%3 == 1:
			fmt.Fprintf(&b, "reader-%d@example.org,Bad,nosuch,\n", i)
		case bad[line]:
			fmt.Fprintf(&b, "reader-%d@example.org,Bad,daily,maybe\n", i)
		default:
			fmt.Fprintf(&b, "reader-%d@example.org,Reader %d,daily,\n", i, i)
		}
	}
	return b.Bytes()
}

func TestImport100kRowsReportsExactlyTheBadOnes(t *testing.T) {
	e := MustEnv(t, "daily")
	const rows = 100_000
	bad := map[int]bool{}
	for i := 0; i < 100; i++ {
		bad[2+i*997] = true
	}
	start := time.Now()
	res, err := e.svc.Import(context.Background(), bytes.NewReader(importFile(rows, bad)),
		subscribers.ImportOptions{Newsletter: "daily", Confirmed: true})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("import: %d rows (100 bad) in %s, %.0f rows/s\n", rows, took.Round(time.Millisecond), rows/took.Seconds())
	if res.Imported != rows-100 || len(res.Skipped) != 100 {
		t.Fatalf("imported %d, skipped %d; want %d and 100", res.Imported, len(res.Skipped), rows-100)
	}
	for _, s := range res.Skipped {
		if !bad[s.Line] {
			t.Fatalf("skipped line %d (%s), which is good", s.Line, s.Reason)
		}
	}
	counts, err := e.svc.Store.Counts(context.Background(), "daily")
	if err != nil || counts.Confirmed != rows-100 {
		t.Fatalf("counts %+v, %v", counts, err)
	}
	sub := MustLookup(t, e, "reader-5@example.org")
	if sub.Name != "Reader 5" || len(sub.Consent) != 1 || sub.Consent[0].Action != "import" || !strings.Contains(sub.Consent[0].Source, "confirmed=true") {
		t.Fatalf("imported subscriber %+v", sub)
	}
}

func TestImportRespectsUnsubscribesAndConsent(t *testing.T) {
	e := MustEnv(t, "daily")
	ctx := context.Background()
	tok := MustSubscribe(t, e, "left@example.org", "daily")
	MustConfirm(t, e, tok.Token)
	e.svc.Signer, _ = subscribers.NewSigner([]string{"a-test-secret-of-enough-length"})
	sub := MustLookup(t, e, "left@example.org")
	if _, err := e.svc.Unsubscribe(ctx, e.svc.Signer.UnsubscribeToken(sub.ID, "daily"), subscribers.RequestMeta{}); err != nil {
		t.Fatal(err)
	}
	file := "email,status\nleft@example.org,confirmed\nnew@example.org,confirmed\nplain@example.org,\n"

	res, err := e.svc.Import(ctx, strings.NewReader(file), subscribers.ImportOptions{Newsletter: "daily"})
	if err != nil {
		t.Fatal(err)
	}
	// Without confirmed=true a row cannot claim consent.
	if res.Imported != 1 || len(res.Skipped) != 2 || res.Skipped[0].Reason != "invalid_status" {
		t.Fatalf("result %+v", res)
	}
	if _, err := e.svc.Import(ctx, strings.NewReader(file), subscribers.ImportOptions{Newsletter: "daily", Confirmed: true}); err != nil {
		t.Fatal(err)
	}
	if st := MustStatus(t, e, "left@example.org", "daily"); st != newsletter.StatusUnsubscribed {
		t.Fatalf("an import resubscribed a reader who left: %s", st)
	}
	if st := MustStatus(t, e, "new@example.org", "daily"); st != newsletter.StatusConfirmed {
		t.Fatalf("new@ is %s", st)
	}
	if st := MustStatus(t, e, "plain@example.org", "daily"); st != newsletter.StatusConfirmed {
		t.Fatalf("plain@ is %s: a pending import is promoted by a confirmed one", st)
	}
	if n := len(e.rec.Confirmations()); n != 1 { // only the signup above
		t.Fatalf("import sent %d confirmation emails", n-1)
	}
}

func TestImportRefusesAFileWithoutEmailColumn(t *testing.T) {
	e := MustEnv(t, "daily")
	_, err := e.svc.Import(context.Background(), strings.NewReader("name\nAnn\n"), subscribers.ImportOptions{Newsletter: "daily"})
	if newsletter.ErrorCode(err) != newsletter.EBADCSV {
		t.Fatalf("err = %v, want invalid_csv", err)
	}
	_, err = e.svc.Import(context.Background(), strings.NewReader("email\na@example.org\n"), subscribers.ImportOptions{Newsletter: "nosuch"})
	if newsletter.ErrorCode(err) != newsletter.EUNKNOWNNEWSLETTER {
		t.Fatalf("err = %v, want unknown_newsletter", err)
	}
}

func TestExportCSVAndJSON(t *testing.T) {
	e := MustEnv(t, "daily", "weekly")
	ctx := context.Background()
	file := "email,name,newsletters\na@example.org,Ann,daily;weekly\nb@example.org,Bob,weekly\n"
	if _, err := e.svc.Import(ctx, strings.NewReader(file), subscribers.ImportOptions{Confirmed: true}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := e.svc.Export(ctx, &out, "daily", subscribers.ExportCSV, nil); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][0] != "a@example.org" || recs[1][2] != "daily" || recs[1][3] != "confirmed" {
		t.Fatalf("CSV export for daily = %v, %v", recs, err)
	}
	out.Reset()
	if err := e.svc.Export(ctx, &out, "", subscribers.ExportJSON, nil); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var ann subscribers.Subscriber
	for _, line := range lines { // in the order of the partitions, not of the file
		if strings.Contains(line, `"a@example.org"`) && json.Unmarshal([]byte(line), &ann) != nil {
			t.Fatalf("JSON export line %s", line)
		}
	}
	if len(lines) != 2 || len(ann.Subscriptions) != 2 || len(ann.Consent) != 1 {
		t.Fatalf("JSON export = %s", out.String())
	}
}

func BenchmarkImport10k(b *testing.B) {
	file := importFile(10_000, nil)
	for b.Loop() {
		e := MustEnv(b, "daily")
		if _, err := e.svc.Import(context.Background(), bytes.NewReader(file), subscribers.ImportOptions{Newsletter: "daily", Confirmed: true}); err != nil {
			b.Fatal(err)
		}
	}
}
