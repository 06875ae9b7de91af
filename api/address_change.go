package api

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"newsletter"
	"newsletter/subscribers"
)

// requestAddressChange sends the new address the link that confirms a
// change of address (and the old one a notice), and shows the page
// again, saying so or why the address was refused.
func (s *Server) requestAddressChange(c *gin.Context, token, newEmail string) {
	r, ok := s.loadPreferences(c, token)
	if !ok {
		return
	}
	err := s.cfg.Subscribers.RequestAddressChange(c, token, newEmail, s.preferencesLang(c, r.sub, r.offered).String())
	if err == nil {
		s.renderPreferences(c, http.StatusOK, r, func(v *preferencesView) { v.NewEmail, v.AddressSent = newEmail, true })
		return
	}
	var limited *subscribers.LimitedError
	if errors.As(err, &limited) {
		c.Header("Retry-After", retryAfter(limited.Wait))
		s.renderPreferences(c, http.StatusTooManyRequests, r, func(v *preferencesView) {
			v.NewEmail, v.AddressError = newEmail, "prefs.address_limited"
		})
		return
	}
	if e := s.coded(c, err); e.Code == newsletter.EINVALIDEMAIL {
		key := "error.message.invalid_email"
		if errors.Is(err, subscribers.ErrSameAddress) {
			key = "prefs.same_address"
		}
		s.renderPreferences(c, http.StatusUnprocessableEntity, r, func(v *preferencesView) { v.NewEmail, v.AddressError = newEmail, key })
		return
	}
	s.failPage(c, err)
}

// handleAddressChangePage asks the reader to confirm the change of
// address its link names; it changes nothing (mail scanners open links).
func (s *Server) handleAddressChangePage(c *gin.Context) {
	token := c.Query("token")
	ch, err := s.cfg.Subscribers.PendingAddressChange(c, token)
	if err != nil {
		s.failPage(c, err)
		return
	}
	lang := readerLang(c)
	s.render(c, http.StatusOK, lang, "preferences", preferencesPage{pageData: pageData{Lang: lang, Title: lang.T("prefs.move.title")},
		Prefs: &preferencesView{Email: ch.OldEmail, NewEmail: ch.NewEmail, MoveToken: token}}, "no-store")
}

// handleAddressChange confirms a change of address and shows the
// preference page of the new address.
func (s *Server) handleAddressChange(c *gin.Context) {
	token, meta := tokenRequest(c)
	id, err := s.cfg.Subscribers.ConfirmAddressChange(c, token, meta)
	if err != nil {
		s.failPage(c, err)
		return
	}
	prefs := s.cfg.Subscribers.Signer.PreferencesToken(id)
	if r, ok := s.loadPreferences(c, prefs); ok {
		s.renderPreferences(c, http.StatusOK, r, func(v *preferencesView) { v.Moved = true })
	}
}

// handleAddressCancelPage asks whether to cancel the change of address
// that the notice's link names; it changes nothing.
func (s *Server) handleAddressCancelPage(c *gin.Context) {
	token := c.Query("token")
	ch, err := s.cfg.Subscribers.CancellableChange(c, token)
	if err != nil {
		s.failPage(c, err)
		return
	}
	lang := readerLang(c)
	s.render(c, http.StatusOK, lang, "preferences", preferencesPage{pageData: pageData{Lang: lang, Title: lang.T("prefs.cancel.title")},
		Prefs: &preferencesView{NewEmail: ch.NewEmail, CancelToken: token}}, "no-store")
}

// handleAddressCancel cancels the change of address of the notice's link.
func (s *Server) handleAddressCancel(c *gin.Context) {
	token, _ := tokenRequest(c)
	ch, err := s.cfg.Subscribers.CancelAddressChange(c, token)
	if err != nil {
		s.failPage(c, err)
		return
	}
	lang := readerLang(c)
	s.render(c, http.StatusOK, lang, "preferences", preferencesPage{pageData: pageData{Lang: lang, Title: lang.T("prefs.cancel.title")},
		Prefs: &preferencesView{NewEmail: ch.NewEmail, Cancelled: true}}, "no-store")
}
