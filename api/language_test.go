package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"newsletter/digests"
	"newsletter/i18n"
)

// TestNewsletterLanguageIsValidated: "language" is en or uk, en when
// absent; anything else is a 422 field error whose message stays English.
func TestNewsletterLanguageIsValidated(t *testing.T) {
	e := newEnv(t)
	if r := e.editor("PUT", "/v1/newsletters/daily", `{"name":"Daily"}`); r.Status != http.StatusCreated || !strings.Contains(r.Body, `"language":"en"`) {
		t.Errorf("PUT without language = %d %s, want 201 with language en", r.Status, r.Body)
	}
	if r := e.editor("PUT", "/v1/newsletters/ranok", `{"name":"Ранок","language":"uk"}`); r.Status != http.StatusCreated || !strings.Contains(r.Body, `"language":"uk"`) {
		t.Errorf("PUT with language uk = %d %s, want 201 with language uk", r.Status, r.Body)
	}
	for _, body := range []string{`{"name":"X","language":"ru"}`, `{"name":"X","language":"UK"}`} {
		r := e.editor("PUT", "/v1/newsletters/x", body)
		if got := wantJSONError(t, r, http.StatusUnprocessableEntity, "invalid_newsletter"); got.Field != "language" || !strings.Contains(got.Message, "English") {
			t.Errorf("PUT %s: error %+v, want field language with an English message", body, got)
		}
	}
	wantJSONError(t, e.editor("PUT", "/v1/newsletters/x", `{"name":"X","language":7}`), http.StatusBadRequest, "bad_request")
}

// TestUkrainianNewsletterPages: the page, archive and web view of a
// Ukrainian newsletter are in Ukrainian, whatever the reader's
// Accept-Language, with Ukrainian dates and schedule.
func TestUkrainianNewsletterPages(t *testing.T) {
	var svc *digests.Service
	e, _ := newAdminEnv(t, withDigests(&svc))
	if r := e.editor("PUT", "/v1/newsletters/ranok", `{"name":"Ранок","schedule":"0 7 * * 1","timezone":"Europe/Kyiv","language":"uk"}`); r.Status != http.StatusCreated {
		t.Fatalf("PUT ranok = %d %s", r.Status, r.Body)
	}
	e.importConfirmed("ranok", "ann@example.org")
	e.addArticle("https://news.example/uk/1", "Новина")
	id := digestID(t, e.editor("POST", "/v1/newsletters/ranok/digests", `{"subject":"Перший випуск"}`))
	mustSaveBody(t, e, svc, id)
	if _, err := svc.Store.StartSending(t.Context(), id, time.Now()); err != nil {
		t.Fatal(err)
	}
	d, err := svc.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	kyiv, _ := time.LoadLocation("Europe/Kyiv")
	date := i18n.Ukrainian.Date(d.CreatedAt.In(kyiv))

	page := e.do("GET", "/newsletters/ranok", nil, "Accept-Language", "en-US,en;q=0.9")
	wantHTML(t, page, http.StatusOK, `<html lang="uk">`, "<h1>Ранок</h1>", "Щопонеділка о 07:00 (Europe/Kyiv)",
		`<h2 id="signup-heading">Отримуйте «Ранок» електронною поштою</h2>`, "Введіть email, щоб підписатися",
		"<button type=\"submit\">Підписатися</button>", "Попередні випуски", "Перший випуск", date, "Стрічка випусків (Atom)")
	if got := page.Header.Get("Content-Language"); got != "uk" {
		t.Errorf("Content-Language = %q, want uk", got)
	}
	wantHTML(t, e.do("GET", "/digests/"+id, nil, "Accept", "text/html"), http.StatusOK,
		`<html lang="uk">`, "Попередні випуски «Ранок»", date, "Підписатися")
	noEnglish(t, page.Body, "Subscribe", "Past issues", "Every ")
}

// TestUkrainianSignupAnswers: the HTML answers of a form that signs up for
// a Ukrainian newsletter are Ukrainian; its JSON errors stay English.
func TestUkrainianSignupAnswers(t *testing.T) {
	e := newEnv(t)
	if r := e.editor("PUT", "/v1/newsletters/ranok", `{"name":"Ранок","language":"uk"}`); r.Status != http.StatusCreated {
		t.Fatalf("PUT ranok = %d %s", r.Status, r.Body)
	}
	bad := e.postForm("email=nobody&newsletter=ranok")
	wantHTML(t, bad, http.StatusUnprocessableEntity, `<html lang="uk">`, "Будь ласка, введіть правильну адресу електронної пошти",
		"<title>Помилка: Підписатися на Ранок</title>", "<h1>Підписатися на Ранок</h1>")
	noEnglish(t, bad.Body, "Please", "Subscribe")
	typo := e.postForm("email=ann@gmial.com&newsletter=ranok")
	wantHTML(t, typo, http.StatusUnprocessableEntity, "Можливо, ви мали на увазі <strong>ann@gmail.com</strong>?")
	ok := e.postForm("email=ann@example.org&newsletter=ranok")
	wantHTML(t, ok, http.StatusOK, `<html lang="uk">`, "Дякуємо за підписку! Ми надіслали вам лист для підтвердження.",
		"Посилання діє 7 днів")
	got := wantJSONError(t, e.postJSON(`{"email":"nobody","newsletters":["ranok"]}`), http.StatusUnprocessableEntity, "invalid_email")
	if got.Message != "Please, enter correct email address" {
		t.Errorf("JSON error message = %q, want the English one", got.Message)
	}
}

// TestUkrainianConfirmAndUnsubscribePages: the confirmation and
// unsubscribe pages of a Ukrainian newsletter's links are Ukrainian.
func TestUkrainianConfirmAndUnsubscribePages(t *testing.T) {
	e, signer, now := readerEnv(t)
	if r := e.editor("PUT", "/v1/newsletters/ranok", `{"name":"Ранок","language":"uk"}`); r.Status != http.StatusCreated {
		t.Fatalf("PUT ranok = %d %s", r.Status, r.Body)
	}
	token, id := e.signedUp("ann@example.org", "ranok")
	wantHTML(t, e.do("GET", "/confirm?token="+url.QueryEscape(token), nil), http.StatusOK, `<html lang="uk">`,
		"<h1>Підтвердьте підписку</h1>", "Натисніть кнопку, щоб підтвердити, що хочете отримувати <strong>Ранок</strong> на адресу <strong>ann@example.org</strong>.")
	wantHTML(t, e.postToken("/confirm", token, "text/html"), http.StatusOK, `<html lang="uk">`,
		"<h1>Підписку підтверджено</h1>", "Ви отримуватимете <strong>Ранок</strong>.")
	unsubscribe := "/unsubscribe?token=" + url.QueryEscape(signer.UnsubscribeToken(id, "ranok"))
	wantHTML(t, e.do("GET", unsubscribe, nil), http.StatusOK, `<html lang="uk">`, "<h1>Відписатися</h1>",
		"Натисніть кнопку, щоб більше не отримувати <strong>Ранок</strong>.")
	wantHTML(t, e.do("POST", unsubscribe, strings.NewReader(""), "Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html"),
		http.StatusOK, `<html lang="uk">`, "<h1>Ви відписалися</h1>")
	wantHTML(t, e.do("GET", "/confirm?token="+url.QueryEscape(token), nil), http.StatusOK, `<html lang="uk">`,
		"<h1>Ви відписалися</h1>", "Ви відписалися від <strong>Ранок</strong> "+i18n.Ukrainian.Date(now.UTC())+".", "Підписатися знову")
}

// TestAcceptLanguage: pages of no one newsletter follow Accept-Language
// among English and Ukrainian, English by default.
func TestAcceptLanguage(t *testing.T) {
	e := newEnv(t)
	e.putNewsletter("daily", "Daily Brief")
	for _, c := range []struct {
		accept, lang, heading string
	}{
		{"", "en", "<h1>Newsletters</h1>"},
		{"uk-UA,uk;q=0.9,en;q=0.8", "uk", "<h1>Розсилки</h1>"},
		{"en-GB,en;q=0.9,uk;q=0.8", "en", "<h1>Newsletters</h1>"},
		{"de-DE,de;q=0.9,uk;q=0.5", "uk", "<h1>Розсилки</h1>"},
		{"fr-FR,fr;q=0.9", "en", "<h1>Newsletters</h1>"},
		{"zz;;q=nonsense", "en", "<h1>Newsletters</h1>"},
	} {
		r := e.do("GET", "/newsletters", nil, "Accept-Language", c.accept)
		wantHTML(t, r, http.StatusOK, `<html lang="`+c.lang+`">`, c.heading)
	}
	wantHTML(t, e.do("GET", "/no/such/page", nil, "Accept", "text/html", "Accept-Language", "uk"), http.StatusNotFound,
		`<html lang="uk">`, "<h1>Сторінку не знайдено</h1>", "За цією адресою нічого немає.")
	wantHTML(t, e.do("GET", "/not-me?token=x", nil, "Accept-Language", "uk"), http.StatusOK,
		`<html lang="uk">`, "<h1>Це не я</h1>")
	got := wantJSONError(t, e.do("GET", "/no/such/page", nil, "Accept-Language", "uk"), http.StatusNotFound, "not_found")
	if got.Message != "There is nothing at this address." {
		t.Errorf("JSON error message = %q, want English", got.Message)
	}
}

// noEnglish fails when body holds one of words outside its tags' names.
func noEnglish(t *testing.T, body string, words ...string) {
	t.Helper()
	for _, w := range words {
		if strings.Contains(body, ">"+w) || strings.Contains(body, " "+w) {
			t.Errorf("Ukrainian page holds English %q:\n%s", w, body)
		}
	}
}

// TestAdminSettingsLanguageAndPublic: the editor pages' settings form
// offers the language and the public checkbox, and saves both; a bad
// language is refused; the create form takes the language too.
func TestAdminSettingsLanguageAndPublic(t *testing.T) {
	e, _ := newAdminEnv(t)
	b := newBrowser(t, e)
	csrf := b.mustLogin()
	b.post("/admin/newsletters", csrf, url.Values{"id": {"daily"}, "name": {"Daily"}}, "/admin/newsletters/daily")
	wantHTML(t, b.get("/admin/newsletters/daily"), http.StatusOK, `<option value="en" selected>English</option>`,
		`name="public" value="true" checked`)

	b.post("/admin/newsletters/daily", csrf, url.Values{"name": {"Daily"}, "language": {"uk"}, "public": {"false"}},
		"/admin/newsletters/daily?done=saved")
	wantHTML(t, b.get("/admin/newsletters/daily"), http.StatusOK, `<option value="uk" selected>`)
	if page := b.get("/admin/newsletters/daily"); strings.Contains(page.Body, `value="true" checked`) {
		t.Errorf("public is still checked after saving it unchecked")
	}
	if r := e.do("GET", "/newsletters/daily", nil); r.Status != http.StatusNotFound {
		t.Errorf("GET /newsletters/daily of a private newsletter = %d, want 404", r.Status)
	}

	b.post("/admin/newsletters/daily", csrf, url.Values{"name": {"Daily"}, "language": {"uk"}, "public": {"false", "true"}},
		"/admin/newsletters/daily?done=saved")
	wantHTML(t, e.do("GET", "/newsletters/daily", nil), http.StatusOK, `<html lang="uk">`)

	if r := b.do("POST", "/admin/newsletters/daily", url.Values{"csrf": {csrf}, "name": {"Daily"}, "language": {"de"}}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("saving language de = %d, want 422", r.Status)
	}
	wantHTML(t, b.get("/admin"), http.StatusOK, `<select id="nl-language" name="language">`)
	b.post("/admin/newsletters", csrf, url.Values{"id": {"ranok"}, "name": {"Ранок"}, "language": {"uk"}}, "/admin/newsletters/ranok")
	wantHTML(t, b.get("/admin/newsletters/ranok"), http.StatusOK, `<option value="uk" selected>`)
}
