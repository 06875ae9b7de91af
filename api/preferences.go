package api

import (
	"net/http"
	"slices"
	"sort"

	"github.com/gin-gonic/gin"

	"newsletter"
	"newsletter/i18n"
	"newsletter/subscribers"
)

// The preference page (GET /preferences?token=…) shows a reader every
// public newsletter and those it has, where it stands with each, and one
// form to change them and its name; GET changes nothing, since mail
// scanners open links. The forms post back with a form token
// (subscribers.Signer.FormToken) against cross-site requests. "Delete
// everything" asks once more before it erases.

// preferencesPage is what the preferences template sees: the layout's
// pageData and the page's own view.
type preferencesPage struct {
	pageData
	Prefs *preferencesView
}

// preferencesView is the reader's side of the preference page.
type preferencesView struct {
	Email, Name   string
	Token         string // the preferences token, for the forms' actions
	FormToken     string
	Newsletters   []preferenceChoice
	Saved         bool // the reader's choices were just saved
	ConfirmDelete bool // "delete everything" asks to be sure
	Deleted       bool // everything is deleted: the page says so and offers nothing

	NewEmail     string // the address of the change form: as typed, or the one a link went to
	AddressSent  bool   // a link to confirm NewEmail went out
	AddressError string // why NewEmail was refused: a catalog key
	Moved        bool   // the address just changed to Email
	// MoveToken is set on the page that asks to confirm a change of
	// address (to NewEmail): the token its form posts; CancelToken on the
	// page that asks to cancel one.
	MoveToken, CancelToken string
	Cancelled              bool // the change to NewEmail is cancelled
}

// preferenceChoice is one newsletter on the preference page.
type preferenceChoice struct {
	newsletterView
	Status  string // in words: "Subscribed", "Waiting for your confirmation", "Not subscribed"
	Checked bool
}

// statusKeys are the catalog keys that say where a reader stands with a
// newsletter; none says "Not subscribed".
var statusKeys = map[newsletter.Status]string{
	newsletter.StatusConfirmed: "prefs.status.confirmed",
	newsletter.StatusPending:   "prefs.status.pending",
}

// maxPreferencesBody caps a preference form: a few dozen newsletter ids
// and a name.
const maxPreferencesBody = 16 << 10

// handlePreferencesPage shows the preference page of the token's reader.
func (s *Server) handlePreferencesPage(c *gin.Context) {
	if r, ok := s.loadPreferences(c, c.Query("token")); ok {
		s.renderPreferences(c, http.StatusOK, r, func(*preferencesView) {})
	}
}

// readerPreferences is a preference page's reader, as a handler loads it
// once: the reader, the newsletters the page offers, and the token.
type readerPreferences struct {
	sub     *subscribers.Subscriber
	offered []*newsletter.Newsletter
	token   string
}

// loadPreferences loads the reader of preferences token token and the
// newsletters its page offers, or answers the error page and reports false.
func (s *Server) loadPreferences(c *gin.Context, token string) (*readerPreferences, bool) {
	sub, err := s.cfg.Subscribers.PreferencesSubscriber(c, token)
	if err != nil {
		s.failPage(c, err)
		return nil, false
	}
	offered, err := s.offeredNewsletters(c, sub)
	if err != nil {
		s.failPage(c, err)
		return nil, false
	}
	return &readerPreferences{sub: sub, offered: offered, token: token}, true
}

// handlePreferences applies one of the preference page's forms: save the
// choices, unsubscribe from all, or delete everything (asked, then done).
func (s *Server) handlePreferences(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxPreferencesBody)
	token := c.Query("token")
	if err := c.Request.ParseForm(); err != nil {
		s.failPage(c, newsletter.Errorf(newsletter.EBADREQUEST, "The form could not be read. Please open the page again."))
		return
	}
	if ambiguous := ambiguousForm(c.Request.PostForm); ambiguous != "" || len(c.Request.PostForm["action"]) > 1 {
		s.failPage(c, duplicateFieldError(ambiguous))
		return
	}
	if !s.cfg.Subscribers.Signer.CheckFormToken(token, c.PostForm("csrf"), s.cfg.Subscribers.Now()) {
		s.failPage(c, errStaleForm)
		return
	}
	switch c.PostForm("action") {
	case "save", "":
		s.savePreferences(c, token, c.PostFormArray("newsletters"), false)
	case "unsubscribe_all":
		s.savePreferences(c, token, nil, true)
	case "delete":
		s.askDelete(c, token)
	case "delete_confirmed":
		s.deleteEverything(c, token)
	case "change_email":
		s.requestAddressChange(c, token, c.PostForm("new_email"))
	default:
		s.failPage(c, &newsletter.Error{Code: newsletter.EBADREQUEST, Field: "action", Message: "Unknown action."})
	}
}

var errStaleForm = &newsletter.Error{Code: newsletter.EFORBIDDEN, Field: "csrf",
	Message: "This form has expired or did not come from this page. Please open the page from your email again."}

// savePreferences saves the checked newsletters and the name, or with all
// ends every subscription, and shows the page again.
func (s *Server) savePreferences(c *gin.Context, token string, wanted []string, all bool) {
	r, ok := s.loadPreferences(c, token)
	if !ok {
		return
	}
	ch := subscribers.PreferencesChange{Wanted: wanted, All: all, Meta: requestMeta(c)}
	for _, n := range r.offered {
		ch.Offered = append(ch.Offered, n.ID)
	}
	if name := c.PostForm("name"); !all {
		ch.Name = &name
	}
	res, err := s.cfg.Subscribers.SavePreferences(c, token, ch)
	if err != nil {
		s.failPage(c, err)
		return
	}
	r.sub = res.Subscriber // the same newsletters are offered: the added ones were
	s.renderPreferences(c, http.StatusOK, r, func(v *preferencesView) { v.Saved = true })
}

// askDelete shows the page with the last question before erasing.
func (s *Server) askDelete(c *gin.Context, token string) {
	if r, ok := s.loadPreferences(c, token); ok {
		s.renderPreferences(c, http.StatusOK, r, func(v *preferencesView) { v.ConfirmDelete = true })
	}
}

// deleteEverything erases the reader, as the editor's erase does.
func (s *Server) deleteEverything(c *gin.Context, token string) {
	if err := s.cfg.Subscribers.EraseByPreferences(c, token); err != nil {
		s.failPage(c, err)
		return
	}
	lang := readerLang(c)
	s.render(c, http.StatusOK, lang, "preferences", preferencesPage{
		pageData: pageData{Lang: lang, Title: lang.T("prefs.deleted.title")}, Prefs: &preferencesView{Deleted: true}}, "no-store")
}

// handlePreferencesData answers "download my data": the editor export of
// the reader's address, as a JSON download. It changes nothing.
func (s *Server) handlePreferencesData(c *gin.Context) {
	data, err := s.cfg.Subscribers.ExportByPreferences(c, c.Query("token"))
	if err != nil {
		s.failPage(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Disposition", `attachment; filename="my-newsletter-data.json"`)
	c.JSON(http.StatusOK, data)
}

// renderPreferences shows the preference page of sub, after adjust set
// what the page says besides the choices.
func (s *Server) renderPreferences(c *gin.Context, status int, r *readerPreferences, adjust func(*preferencesView)) {
	sub, token, offered := r.sub, r.token, r.offered
	lang := s.preferencesLang(c, sub, offered)
	v := &preferencesView{Email: sub.Email, Name: sub.Name, Token: token,
		FormToken: s.cfg.Subscribers.Signer.FormToken(token, s.cfg.Subscribers.Now())}
	for _, n := range offered {
		st := sub.StatusOf(n.ID)
		key, ok := statusKeys[st]
		if !ok {
			key = "prefs.status.none"
		}
		v.Newsletters = append(v.Newsletters, preferenceChoice{newsletterView: s.viewIn(n, lang), Status: lang.T(key),
			Checked: st == newsletter.StatusConfirmed})
	}
	adjust(v)
	s.render(c, status, lang, "preferences", preferencesPage{pageData: pageData{Lang: lang, Title: lang.T("prefs.title")}, Prefs: v}, "no-store")
}

// preferencesLang is the language of sub's preference page: that of the
// newsletters sub gets, when they share one, else the reader's.
func (s *Server) preferencesLang(c *gin.Context, sub *subscribers.Subscriber, offered []*newsletter.Newsletter) i18n.Lang {
	var langs []i18n.Lang
	for _, n := range offered {
		if st := sub.StatusOf(n.ID); st == newsletter.StatusConfirmed || st == newsletter.StatusPending {
			langs = append(langs, langOf(n))
		}
	}
	return sharedLang(c, langs)
}

// offeredNewsletters are the newsletters the preference page of sub
// offers: every public one and every one sub has a subscription with, by
// name.
func (s *Server) offeredNewsletters(c *gin.Context, sub *subscribers.Subscriber) ([]*newsletter.Newsletter, error) {
	all, err := s.cfg.Newsletters.Newsletters(c)
	if err != nil {
		return nil, err
	}
	var out []*newsletter.Newsletter
	for _, n := range all {
		if n.IsPublic() || sub.StatusOf(n.ID) != "" {
			out = append(out, n)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return slices.Clip(out), nil
}

// requestMeta is who sent a reader's request, for its consent record.
func requestMeta(c *gin.Context) subscribers.RequestMeta {
	return subscribers.RequestMeta{IP: c.ClientIP(), UserAgent: c.GetHeader("User-Agent")}
}
