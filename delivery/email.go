package delivery

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"newsletter/i18n"
	"newsletter/mailer"
	"newsletter/metrics"
)

// newsletterView is what templates see of a newsletter.
type newsletterView struct {
	ID, Name, Description string
	Lang                  i18n.Lang // the language of its emails
	PostalAddress         string    // its own, "" for the service's
	brand                 brand
}

// brand is a newsletter's branding (newsletter/branding.go).
type brand struct{ logoURL, accent, footerText string }

// confirmData is what the confirmation email shows: the address and the
// newsletters' names, never anything else the signer typed, so that the
// form cannot relay anyone's text.
type confirmData struct {
	Email       string
	Link        string // confirms
	NotMeLink   string // "This wasn't me": suppresses the address
	ValidFor    string
	Newsletters []newsletterView
}

type welcomeData struct {
	Email          string
	Newsletter     newsletterView
	PreferencesURL string // "" without a subscriber id or a Signer
	PostalAddress  string // the footer's: the newsletter's, else the service's
	// The newsletter's branding (newsletter/branding.go); "" for none.
	LogoURL, Accent, FooterText string
}

// Confirmation is one confirmation email to send.
type Confirmation struct {
	RequestID   string // the signup that asked for it, for the log
	Email       string
	Token       string // the confirmation token, in the clear
	Newsletters []string
}

// SendConfirmation sends the confirmation email p: the link that confirms,
// the "This wasn't me" link, and the newsletters' names.
func (e *Engine) SendConfirmation(ctx context.Context, p Confirmation) error {
	token := p.Token
	nls, from, err := e.newsletters(ctx, p.Newsletters)
	if err != nil {
		return err
	}
	link := e.BaseURL + "/confirm?token=" + url.QueryEscape(token)
	lang := languageOf(nls)
	data := confirmData{Email: p.Email, Link: link, NotMeLink: e.BaseURL + "/not-me?token=" + url.QueryEscape(token),
		ValidFor: lang.Duration(e.ConfirmTTL), Newsletters: nls}
	if err := e.sendIn(ctx, lang, "confirm", firstOf(p.Newsletters), from, p.Email, data, nil); err != nil {
		return err
	}
	if e.LogLinks {
		e.Logger.Info("Dev mode: confirmation link", "request_id", p.RequestID, "email", p.Email, "link", link)
	}
	return nil
}

// Welcome is one welcome email to send, after a confirmation.
type Welcome struct {
	SubscriberID int64 // 0 (a task queued before it was carried): no List-Unsubscribe
	Email        string
	Newsletter   string
}

// SendWelcome sends the welcome email of newsletter p.Newsletter; a
// newsletter that no longer exists welcomes nobody.
func (e *Engine) SendWelcome(ctx context.Context, p Welcome) error {
	nls, from, err := e.newsletters(ctx, []string{p.Newsletter})
	if err != nil {
		return err
	}
	if len(nls) == 0 {
		return nil // the newsletter is gone: nobody to welcome to
	}
	b := nls[0].brand
	data := welcomeData{Email: p.Email, Newsletter: nls[0], PreferencesURL: e.preferencesURL(p.SubscriberID),
		PostalAddress: e.postalAddress(nls[0]), LogoURL: b.logoURL, Accent: b.accent, FooterText: b.footerText}
	return e.sendIn(ctx, nls[0].Lang, "welcome", p.Newsletter, from, p.Email, data, e.unsubscribeHeaders(p.SubscriberID, p.Newsletter))
}

// postalAddress is the postal address the footer of n's emails prints:
// n's own, else the service's.
func (e *Engine) postalAddress(n newsletterView) string {
	if n.PostalAddress != "" {
		return n.PostalAddress
	}
	return e.PostalAddress
}

// preferencesURL is the link to subscriber id's preference page, or ""
// without an id or a Signer.
func (e *Engine) preferencesURL(id int64) string {
	if id <= 0 || e.Signer == nil {
		return ""
	}
	return e.BaseURL + "/preferences?token=" + e.Signer.PreferencesToken(id)
}

// unsubscribeHeaders are List-Unsubscribe with one-click POST (RFC 8058)
// for subscriber id and newsletter nl, or none without an id or a Signer.
func (e *Engine) unsubscribeHeaders(id int64, nl string) map[string]string {
	if id <= 0 || e.Signer == nil {
		return nil
	}
	return map[string]string{
		"List-Unsubscribe":      "<" + e.BaseURL + "/unsubscribe?token=" + e.Signer.UnsubscribeToken(id, nl) + ">",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
	}
}

// newsletters loads the named newsletters that still exist, and the sender
// to use: the newsletter's own when there is one newsletter, else the default.
func (e *Engine) newsletters(ctx context.Context, ids []string) ([]newsletterView, string, error) {
	var views []newsletterView
	from := e.From
	for _, id := range ids {
		n, err := e.Store.Newsletter(ctx, id)
		if err != nil {
			return nil, "", err
		}
		if n == nil {
			continue
		}
		views = append(views, newsletterView{ID: n.ID, Name: n.Name, Description: n.Description, Lang: i18n.Of(n.Lang()),
			PostalAddress: n.PostalAddress, brand: brand{n.LogoURL, n.AccentColor, n.FooterText}})
		if len(ids) == 1 && n.From != "" {
			from = n.From
		}
	}
	return views, from, nil
}

// languageOf is the language of an email about newsletters nls: the
// first one's (the one the reader signed up from, as a rule), the default
// without any.
func languageOf(nls []newsletterView) i18n.Lang {
	if len(nls) == 0 {
		return i18n.Default
	}
	return nls[0].Lang
}

// kinds maps email templates to the kind label of the message metrics.
var kinds = map[string]string{"confirm": metrics.KindConfirmation, "welcome": metrics.KindWelcome}

func firstOf(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[0]
}

// send renders email name in the default language for one recipient and
// sends it, as sendIn does.
func (e *Engine) send(ctx context.Context, name, nl, from, to string, data any, headers map[string]string) error {
	return e.sendIn(ctx, i18n.Default, name, nl, from, to, data, headers)
}

// sendIn renders email name in language lang for one recipient and sends
// it. A permanent refusal is marked ErrPermanent.
func (e *Engine) sendIn(ctx context.Context, lang i18n.Lang, name, nl, from, to string, data any, headers map[string]string) error {
	if suppressed, err := e.Store.Suppressed(ctx, []string{to}); err != nil || suppressed[0] {
		return err // never mail a suppressed address
	}
	r, err := e.Templates.RenderEmailIn(lang, name, data)
	if err != nil {
		return fmt.Errorf("%w: %w", err, ErrPermanent)
	}
	msg := &mailer.Message{From: from, To: to, Subject: r.Subject, Text: r.Text, HTML: r.HTML,
		Headers: map[string]string{"Auto-Submitted": "auto-generated"}}
	for k, v := range headers {
		msg.Headers[k] = v
	}
	start := time.Now()
	err = e.Sender.Send(ctx, msg)
	e.Metrics.ObserveSend(nl, kinds[name], time.Since(start), err)
	if err != nil {
		if c := mailer.Classify(err); c != mailer.Temporary && c != mailer.SlowDown && c != mailer.Local {
			return fmt.Errorf("send %s email: %w: %w", name, err, ErrPermanent)
		}
		return fmt.Errorf("send %s email: %w", name, err)
	}
	return nil
}
