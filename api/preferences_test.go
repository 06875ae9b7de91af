package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// preferencesReader is a confirmed reader of daily and of the private vip,
// on a site that also has weekly (public) and hidden (private); it returns
// the env and the reader's preferences token.
func preferencesReader(t *testing.T, email string) (*env, string) {
	t.Helper()
	e, signer, _ := readerEnv(t)
	e.putNewsletter("daily", "Daily Brief")
	e.putNewsletter("weekly", "Weekly Review")
	for id, name := range map[string]string{"vip": "VIP Letter", "hidden": "Hidden Letter"} {
		if r := e.editor("PUT", "/v1/newsletters/"+id, `{"name":"`+name+`","public":false}`); r.Status != http.StatusCreated {
			t.Fatalf("PUT %s: %d %s", id, r.Status, r.Body)
		}
	}
	return e, confirmedReader(t, e, signer, email)
}

// confirmedReader signs email up to daily and vip, confirms, and returns
// its preferences token.
func confirmedReader(t *testing.T, e *env, signer interface{ PreferencesToken(int64) string }, email string) string {
	t.Helper()
	token, id := e.signedUp(email, "daily", "vip")
	if r := e.postToken("/confirm", token, "application/json"); r.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	return signer.PreferencesToken(id)
}

var prefsCSRFField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// preferencesPage opens the page and returns it and its form token.
func (e *env) preferencesPage(prefs string) (response, string) {
	e.t.Helper()
	r := e.do("GET", "/preferences?token="+url.QueryEscape(prefs), nil, "Accept", "text/html")
	m := prefsCSRFField.FindStringSubmatch(r.Body)
	if r.Status != http.StatusOK || m == nil {
		e.t.Fatalf("preference page: %d, form token found: %v\n%s", r.Status, m != nil, r.Body)
	}
	return r, m[1]
}

// postPreferences posts a preference form.
func (e *env) postPreferences(prefs string, form url.Values) response {
	e.t.Helper()
	return e.do("POST", "/preferences?token="+url.QueryEscape(prefs), strings.NewReader(form.Encode()),
		"Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html")
}

// statuses maps each newsletter of the subscriber to its status.
func (e *env) statuses(email string) map[string]string {
	out := map[string]string{}
	for _, s := range e.subscriber(email).Subscriptions {
		out[s.Newsletter] = s.Status
	}
	return out
}

// TestPreferencePageShowsAndChangesNothing: the page lists every public
// newsletter and the private one the reader has, with where the reader
// stands, and opening it (GET or HEAD) changes nothing.
func TestPreferencePageShowsAndChangesNothing(t *testing.T) {
	e, prefs := preferencesReader(t, "reader@example.org")
	before := e.subscriber("reader@example.org")
	page, _ := e.preferencesPage(prefs)
	wantHTML(t, page, http.StatusOK, "reader@example.org", "Daily Brief", "Weekly Review", "VIP Letter",
		"(Subscribed)", "(Not subscribed)", `value="daily" checked`, "Unsubscribe from all", "Download my data", "Delete everything")
	if strings.Contains(page.Body, "Hidden Letter") {
		t.Errorf("the page offers a private newsletter the reader does not have")
	}
	if head := e.do("HEAD", "/preferences?token="+url.QueryEscape(prefs), nil); head.Status != http.StatusOK || head.Body != "" {
		t.Errorf("HEAD = %d with %d bytes", head.Status, len(head.Body))
	}
	if after := e.subscriber("reader@example.org"); len(after.Consent) != len(before.Consent) {
		t.Errorf("opening the page added consent records: %d -> %d", len(before.Consent), len(after.Consent))
	}
}

// TestPreferencesSave: checking weekly and unchecking daily confirms
// weekly at once and ends daily, each recorded with the preference page
// as source; the name changes. Without the form token, or with another
// reader's, nothing changes.
func TestPreferencesSave(t *testing.T) {
	e, prefs := preferencesReader(t, "reader@example.org")
	_, csrf := e.preferencesPage(prefs)
	choice := url.Values{"newsletters": {"weekly", "vip"}, "name": {"Ann Reader"}, "action": {"save"}}

	other := confirmedReader(t, e, e.svc.Signer, "other@example.org")
	_, otherCSRF := e.preferencesPage(other)
	for _, bad := range []string{"", otherCSRF, csrf + "x"} {
		form := url.Values{"csrf": {bad}}
		for k, v := range choice {
			form[k] = v
		}
		if r := e.postPreferences(prefs, form); r.Status != http.StatusForbidden {
			t.Fatalf("form token %q: %d, want 403", bad, r.Status)
		}
	}
	if st := e.statuses("reader@example.org"); st["daily"] != "confirmed" || st["weekly"] != "" {
		t.Fatalf("refused forms changed the subscriptions: %v", st)
	}

	choice.Set("csrf", csrf)
	r := e.postPreferences(prefs, choice)
	wantHTML(t, r, http.StatusOK, "Your choices are saved", `value="Ann Reader"`, `value="weekly" checked`)
	st := e.statuses("reader@example.org")
	if st["daily"] != "unsubscribed" || st["weekly"] != "confirmed" || st["vip"] != "confirmed" {
		t.Fatalf("after saving: %v; want daily unsubscribed, weekly and vip confirmed", st)
	}
	var fromPage []string
	for _, c := range e.subscriber("reader@example.org").Consent {
		if c.Source == "preferences page" {
			fromPage = append(fromPage, c.Action+":"+strings.Join(c.Newsletters, ","))
		}
	}
	if want := []string{"signup:weekly", "confirm:weekly", "unsubscribe:daily"}; !slices.Equal(fromPage, want) {
		t.Fatalf("consent records from the page: %v, want %v", fromPage, want)
	}

	r = e.postPreferences(prefs, url.Values{"csrf": {csrf}, "action": {"unsubscribe_all"}})
	wantHTML(t, r, http.StatusOK, "Your choices are saved")
	for nl, s := range e.statuses("reader@example.org") {
		if s != "unsubscribed" {
			t.Errorf("after unsubscribe from all, %s is %s", nl, s)
		}
	}
}

// TestPreferencesDataAndDelete: "download my data" is the editor export;
// "delete everything" asks first, then erases, and the link stops working.
func TestPreferencesDataAndDelete(t *testing.T) {
	e, prefs := preferencesReader(t, "reader@example.org")
	data := e.do("GET", "/preferences/data?token="+url.QueryEscape(prefs), nil)
	var export struct {
		Subscriber struct {
			Email string `json:"email"`
		} `json:"subscriber"`
	}
	if err := json.Unmarshal([]byte(data.Body), &export); err != nil || data.Status != http.StatusOK ||
		export.Subscriber.Email != "reader@example.org" || !strings.HasPrefix(data.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download my data: %d %q %v\n%s", data.Status, data.Header.Get("Content-Disposition"), err, data.Body)
	}
	editorExport := e.editor("GET", "/v1/subscribers/reader@example.org/export", "")
	if editorExport.Body != data.Body {
		t.Errorf("the reader's download differs from the editor export:\n%s\n%s", data.Body, editorExport.Body)
	}

	_, csrf := e.preferencesPage(prefs)
	ask := e.postPreferences(prefs, url.Values{"csrf": {csrf}, "action": {"delete"}})
	wantHTML(t, ask, http.StatusOK, "Delete everything?", `value="delete_confirmed"`)
	e.subscriber("reader@example.org") // still there

	done := e.postPreferences(prefs, url.Values{"csrf": {csrf}, "action": {"delete_confirmed"}})
	wantHTML(t, done, http.StatusOK, "Your data is deleted")
	if r := e.editor("GET", "/v1/subscribers/reader@example.org", ""); r.Status != http.StatusNotFound {
		t.Fatalf("after delete, the editor finds the reader: %d", r.Status)
	}
	if r := e.do("GET", "/preferences?token="+url.QueryEscape(prefs), nil, "Accept", "text/html"); r.Status == http.StatusOK {
		t.Fatalf("the link still opens a page after the erase")
	}
}

// TestPreferencesRefusesBadTokens: a forged or altered token opens no page.
func TestPreferencesRefusesBadTokens(t *testing.T) {
	e, prefs := preferencesReader(t, "reader@example.org")
	for _, bad := range []string{"", "abc.def", prefs[:len(prefs)-1] + "A", prefs + "A"} {
		if bad == prefs {
			continue
		}
		r := e.do("GET", "/preferences?token="+url.QueryEscape(bad), nil, "Accept", "text/html")
		if r.Status == http.StatusOK || strings.Contains(r.Body, "reader@example.org") {
			t.Errorf("token %q: %d", bad, r.Status)
		}
	}
}

// TestConfirmedPageLinksToPreferences: the page a confirmation ends on
// links to the reader's preference page.
func TestConfirmedPageLinksToPreferences(t *testing.T) {
	e, _, _ := readerEnv(t)
	e.putNewsletter("daily", "Daily Brief")
	token, _ := e.signedUp("linked@example.org", "daily")
	r := e.postToken("/confirm", token, "text/html")
	wantHTML(t, r, http.StatusOK, `href="/preferences?token=`, "Manage your newsletters")
	m := regexp.MustCompile(`href="(/preferences\?token=[^"]+)"`).FindStringSubmatch(r.Body)
	if page := e.do("GET", m[1], nil, "Accept", "text/html"); page.Status != http.StatusOK || !strings.Contains(page.Body, "linked@example.org") {
		t.Fatalf("the link opens %d:\n%s", page.Status, page.Body)
	}
}

// TestPreferencePageInUkrainian: a reader of a Ukrainian newsletter gets
// the page in Ukrainian.
func TestPreferencePageInUkrainian(t *testing.T) {
	e, signer, _ := readerEnv(t)
	if r := e.editor("PUT", "/v1/newsletters/kyiv", `{"name":"Київ сьогодні","language":"uk"}`); r.Status != http.StatusCreated {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	token, id := e.signedUp("chytach@example.org", "kyiv")
	if r := e.postToken("/confirm", token, "application/json"); r.Status != http.StatusOK {
		t.Fatalf("confirm: %d", r.Status)
	}
	page := e.do("GET", "/preferences?token="+url.QueryEscape(signer.PreferencesToken(id)), nil, "Accept", "text/html", "Accept-Language", "en")
	wantHTML(t, page, http.StatusOK, `<html lang="uk">`, "Ваші розсилки", "Ви підписані", "Відписатися від усіх")
	if page.Header.Get("Content-Language") != "uk" {
		t.Errorf("Content-Language = %q", page.Header.Get("Content-Language"))
	}
}

// TestPreferencesSaveLeavesPendingAlone: a subscription waiting for its
// confirmation email shows unchecked, and a save for another reason (the
// name) neither confirms nor ends it; checking it confirms it.
func TestPreferencesSaveLeavesPendingAlone(t *testing.T) {
	e, prefs := preferencesReader(t, "reader@example.org")
	if r := e.postJSON(`{"email":"reader@example.org","newsletters":["weekly"]}`); r.Status != http.StatusAccepted {
		t.Fatalf("signup to weekly: %d %s", r.Status, r.Body)
	}
	page, csrf := e.preferencesPage(prefs)
	wantHTML(t, page, http.StatusOK, `value="weekly"> <strong>Weekly Review</strong> <span class="status">(Waiting for your confirmation)`)
	form := url.Values{"csrf": {csrf}, "action": {"save"}, "newsletters": {"daily", "vip"}, "name": {"Ann"}}
	if r := e.postPreferences(prefs, form); r.Status != http.StatusOK {
		t.Fatalf("save: %d", r.Status)
	}
	if st := e.statuses("reader@example.org"); st["weekly"] != "pending" || st["daily"] != "confirmed" {
		t.Fatalf("a save of the name changed the subscriptions: %v", st)
	}
	form["newsletters"] = []string{"daily", "vip", "weekly"}
	if r := e.postPreferences(prefs, form); r.Status != http.StatusOK {
		t.Fatalf("save: %d", r.Status)
	}
	if st := e.statuses("reader@example.org"); st["weekly"] != "confirmed" {
		t.Fatalf("checking weekly left it %s", st["weekly"])
	}
}
