package api_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"newsletter/digests"
)

var historyRow = regexp.MustCompile(`<tr id="digest-([0-9a-f]+)">`)

// historyIDs returns the digest ids of a history page, in order.
func historyIDs(r response) []string {
	var ids []string
	for _, m := range historyRow.FindAllStringSubmatch(r.Body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// TestAdminHistory: the history page lists a newsletter's digests newest
// first, 25 a page with links between pages, each with its subject
// linking to its page, its status, recipients, outcomes, what came back
// and its clicks.
func TestAdminHistory(t *testing.T) {
	var svc *digests.Service
	e, _ := newAdminEnv(t, withDigests(&svc))
	e.putNewsletter("daily", "Daily Brief")
	e.importConfirmed("daily", "ann@example.org", "bob@example.org")
	e.addArticle("https://news.example/a", "Talks")
	ctx := context.Background()
	base, step := time.Now(), 0
	svc.Now = func() time.Time { step++; return base.Add(time.Duration(step) * time.Second) } // one creation time each
	var ids []string
	for i := range 26 {
		d, _, err := svc.Create(ctx, "daily", digests.Request{Subject: "Test " + strconv.Itoa(i), TestRecipients: []string{"editor@example.org"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	real, _, err := svc.Create(ctx, "daily", digests.Request{Subject: "Morning <news>"})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{digests.ReportHard, digests.ReportSoft, digests.ReportComplaint, digests.ReportUnsubscribe} {
		if err := svc.Store.CountReport(ctx, real.ID, kind); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t, e)
	b.mustLogin()

	first := b.get("/admin/newsletters/daily/digests")
	wantHTML(t, first, http.StatusOK, "<h1>Digests of Daily Brief</h1>", "27 digests",
		`<tr id="digest-`+real.ID+`"><td><a href="/admin/digests/`+real.ID+`">Morning &lt;news&gt;</a></td>`,
		`<span class="status status-queued">queued</span>`,
		`<td class="num">2</td><td class="num" data-count="sent">0</td><td class="num">0</td><td class="num">0</td>`+"\n"+
			`<td class="num">2</td><td class="num">1</td><td class="num">1</td><td class="num" data-count="clicks">0</td></tr>`,
		`href="/admin/newsletters/daily/digests?page=2" rel="next">Older</a>`, "(test)")
	got := historyIDs(first)
	if len(got) != 25 || got[0] != real.ID || got[1] != ids[25] || got[24] != ids[2] {
		t.Fatalf("first page: %d rows starting %v; want 25, newest first", len(got), got[:min(3, len(got))])
	}
	second := b.get("/admin/newsletters/daily/digests?page=2")
	wantHTML(t, second, http.StatusOK, `href="/admin/newsletters/daily/digests?page=1" rel="prev">Newer</a>`)
	if got := historyIDs(second); strings.Join(got, ",") != ids[1]+","+ids[0] {
		t.Fatalf("second page %v, want the two oldest", got)
	}
	if strings.Contains(second.Body, `rel="next"`) {
		t.Fatalf("the last page links to a next one")
	}
	wantHTML(t, b.get("/admin/newsletters/daily/digests?page=0"), http.StatusBadRequest, "page must be a whole number, 1 or more.")
	wantHTML(t, b.get("/admin/newsletters/nope/digests"), http.StatusNotFound, "No newsletter has this id.")
	wantHTML(t, b.get("/admin/newsletters/daily"), http.StatusOK, `<a href="/admin/newsletters/daily/digests" id="history-link">`)
}
