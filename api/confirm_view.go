package api

import (
	"time"

	"github.com/gin-gonic/gin"

	"newsletter"
	"newsletter/i18n"
	"newsletter/subscribers"
)

// The statuses of the JSON answer of POST /confirm.
const (
	statusConfirmed    = "confirmed"    // the address is confirmed for the newsletters named
	statusPending      = "pending"      // a later signup waits for its own, newer link
	statusUnsubscribed = "unsubscribed" // the reader left since, or never was subscribed
)

// confirmAnswer is the JSON answer of POST /confirm. Newsletters and Status
// are the contract's; when every newsletter of the token is confirmed they
// are all there is, else Subscriptions tells where the address stands with
// each newsletter and, when none is confirmed, Status says why.
type confirmAnswer struct {
	// Newsletters are the newsletters Status holds for.
	Newsletters   []string          `json:"newsletters"`
	Status        string            `json:"status"`
	Subscriptions []confirmStanding `json:"subscriptions,omitempty"`
	// UnsubscribedAt is when the reader last unsubscribed from one of
	// Newsletters, with Status unsubscribed.
	UnsubscribedAt *time.Time `json:"unsubscribed_at,omitempty"`
}

// confirmStanding is where the address stands with one newsletter of the
// token.
type confirmStanding struct {
	Newsletter     string     `json:"newsletter"`
	Status         string     `json:"status"`
	ConfirmedAt    *time.Time `json:"confirmed_at,omitempty"`
	UnsubscribedAt *time.Time `json:"unsubscribed_at,omitempty"`
}

// confirmAnswerOf is the JSON answer for conf: confirmed for the newsletters
// confirmed; else pending for those that wait for a newer link; else
// unsubscribed.
func confirmAnswerOf(conf *subscribers.Confirmation) confirmAnswer {
	byStatus := map[string][]string{}
	var standings []confirmStanding
	var lastLeft *time.Time
	for _, sub := range conf.Subscriptions {
		st := string(sub.Status)
		if sub.Status != newsletter.StatusConfirmed && sub.Status != newsletter.StatusPending {
			st = statusUnsubscribed // "" too: there is no subscription (any more)
		}
		byStatus[st] = append(byStatus[st], sub.Newsletter)
		standings = append(standings, confirmStanding{Newsletter: sub.Newsletter, Status: st,
			ConfirmedAt: sub.ConfirmedAt, UnsubscribedAt: sub.UnsubscribedAt})
		if t := sub.UnsubscribedAt; st == statusUnsubscribed && t != nil && (lastLeft == nil || t.After(*lastLeft)) {
			lastLeft = t
		}
	}
	a := confirmAnswer{Status: statusConfirmed, Newsletters: byStatus[statusConfirmed]}
	if len(a.Newsletters) == len(conf.Subscriptions) {
		return a
	}
	a.Subscriptions = standings
	switch {
	case len(a.Newsletters) > 0:
	case len(byStatus[statusPending]) > 0:
		a.Status, a.Newsletters = statusPending, byStatus[statusPending]
	default:
		a.Status, a.Newsletters, a.UnsubscribedAt = statusUnsubscribed, byStatus[statusUnsubscribed], lastLeft
	}
	return a
}

// confirmView is what the confirmation pages tell: where the address a
// token was sent to stands with each newsletter of the token.
type confirmView struct {
	// lang is the language of the pages: the newsletters' when they share
	// one, else the reader's.
	lang         i18n.Lang
	Email        string
	ToConfirm    []standingView // pending, and the page's button confirms them
	Confirmed    []standingView
	Waiting      []standingView // pending since a later signup, which has a newer link
	Unsubscribed []standingView // unsubscribed, or not subscribed at all
	// PreferencesURL is the reader's preference page, "" when the server
	// has no Signer.
	PreferencesURL string
}

// standingView is one newsletter on a confirmation page.
type standingView struct {
	ID, Name string
	// Date is when the subscription took its status, as "6 December 2026"
	// in the newsletter's time zone; "" when there is none.
	Date string
	Sep  string // what goes before it in a sentence: "", ", " or " and "
	lang i18n.Lang
	at   *time.Time     // when it took its status, for Date
	loc  *time.Location // the newsletter's time zone
}

// confirmView sorts the newsletters of conf by what the page says of them,
// and picks the pages' language.
func (s *Server) confirmView(c *gin.Context, conf *subscribers.Confirmation) *confirmView {
	v := &confirmView{Email: conf.Email}
	if signer := s.cfg.Subscribers.Signer; signer != nil && conf.SubscriberID > 0 {
		v.PreferencesURL = "/preferences?token=" + signer.PreferencesToken(conf.SubscriberID)
	}
	var langs []i18n.Lang
	for _, sub := range conf.Subscriptions {
		item := s.standingOf(c, sub.Newsletter)
		langs = append(langs, item.lang)
		switch sub.Status {
		case newsletter.StatusPending:
			item.at = &sub.SubscribedAt
			if conf.Used {
				v.Waiting = append(v.Waiting, item)
			} else {
				v.ToConfirm = append(v.ToConfirm, item)
			}
		case newsletter.StatusConfirmed:
			item.at = sub.ConfirmedAt
			v.Confirmed = append(v.Confirmed, item)
		default:
			item.at = sub.UnsubscribedAt
			v.Unsubscribed = append(v.Unsubscribed, item)
		}
	}
	v.lang = sharedLang(c, langs)
	for _, list := range [][]standingView{v.ToConfirm, v.Confirmed, v.Waiting, v.Unsubscribed} {
		v.say(list)
	}
	return v
}

// say writes the dates and separators of list in the view's language.
func (v *confirmView) say(list []standingView) {
	for i := range list {
		list[i].Sep = v.lang.Separator(i, len(list))
		if at := list[i].at; at != nil {
			list[i].Date = v.lang.Date(at.In(list[i].loc))
		}
	}
}

// standingOf returns newsletter id for a confirmation page, with its
// language and time zone; a newsletter that cannot be loaded is shown by
// its id, in the default language and UTC.
func (s *Server) standingOf(c *gin.Context, id string) standingView {
	n, err := s.cfg.Newsletters.Newsletter(c, id)
	if err != nil || n == nil {
		if err != nil {
			s.logger(c).Error("Unable to load newsletter", "newsletter", id, "error", err)
		}
		return standingView{ID: id, Name: id, lang: i18n.Default, loc: time.UTC}
	}
	return standingView{ID: n.ID, Name: n.Name, lang: langOf(n), loc: location(n)}
}

// heading is the heading of a confirmation page: what is true now.
func (v *confirmView) heading() string {
	switch {
	case len(v.ToConfirm) > 0:
		return v.lang.T("confirm.heading")
	case len(v.Waiting) > 0:
		return v.lang.T("page.confirm.use_newest")
	case len(v.Unsubscribed) == 0:
		return v.lang.T("page.confirm.subscribed")
	case len(v.Confirmed) == 0:
		return v.lang.T("unsubscribed.heading")
	}
	return v.lang.T("page.confirm.subscriptions")
}

// resubscribeForm offers to subscribe again to the newsletters the reader
// is not subscribed to, through the usual sign-up with its confirmation
// email; nil when there are none. The token proved the address, so the
// form holds it.
func (s *Server) resubscribeForm(v *confirmView) *signupForm {
	if len(v.Unsubscribed) == 0 {
		return nil
	}
	list := make([]choice, len(v.Unsubscribed))
	for i, u := range v.Unsubscribed {
		list[i] = choice{ID: u.ID, Name: u.Name, Checked: true, lang: u.lang}
	}
	l := v.lang
	return &signupForm{ID: "resubscribe", Heading: l.T("resubscribe.heading"), Newsletters: list, Email: v.Email,
		Label: l.T("form.your_email"), Button: l.T("resubscribe.heading"), Hint: l.T("resubscribe.hint")}
}
