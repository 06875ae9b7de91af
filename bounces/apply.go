package bounces

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"net/url"
	"strings"

	"newsletter"
	"newsletter/subscribers"
)

var sprintf = fmt.Sprintf

// apply acts on a message received for target t and says what it was.
func (li *Listener) apply(ctx context.Context, t Target, msg []byte) (string, error) {
	if t.Kind == KindUnsubscribe {
		return li.unsubscribe(ctx, t)
	}
	rep, err := ParseReport(msg)
	if err != nil {
		li.Logger.Info("Inbound message is no report; ignored", "error", err)
		return OutcomeUnattributed, nil
	}
	id, nl := li.attribute(t, rep.Original)
	if id == 0 {
		li.Logger.Info("Inbound report names no subscriber of ours; ignored", "kind", rep.Kind)
		return OutcomeUnattributed, nil
	}
	sub, err := li.Subscribers.Store.Subscriber(ctx, id)
	if err != nil {
		return "", err
	} else if sub == nil {
		return OutcomeUnattributed, nil // erased since
	}
	var outcome string
	if rep.Kind == ReportComplaint {
		_, err = li.Subscribers.Report(ctx, subscribers.Report{Email: sub.Email, Type: subscribers.BounceComplaint,
			Reason: "complaint (" + rep.Feedback + ")", Newsletter: nl, Channel: "inbound"})
		outcome, err = OutcomeComplaint, ignoreInvalid(err)
	} else {
		outcome, err = li.applyDSN(ctx, sub.Email, rep)
	}
	if err == nil {
		li.countForDigest(ctx, rep.Original, outcome)
	}
	return outcome, err
}

// digestKinds are the digest counts of the outcomes a digest counts.
var digestKinds = map[string]string{OutcomeHard: "bounced_hard", OutcomeSoft: "bounced_soft", OutcomeComplaint: "complaints"}

// countForDigest counts the outcome against the digest whose message the
// report is about: a digest message's Message-ID is
// <DIGEST.SUBSCRIBER@host>. A failure to count is logged only: the report
// itself was applied.
func (li *Listener) countForDigest(ctx context.Context, original textproto.MIMEHeader, outcome string) {
	kind, ok := digestKinds[outcome]
	if li.Digests == nil || !ok || original == nil {
		return
	}
	id, _, _ := strings.Cut(strings.Trim(strings.TrimSpace(original.Get("Message-Id")), "<>"), ".")
	if id == "" {
		return
	}
	if err := li.Digests.CountReport(ctx, id, kind); err != nil {
		li.Logger.Warn("Unable to count a report for its digest", "error", err)
	}
}

// applyDSN applies a DSN's worst news about the subscriber's address: a
// permanent failure, else a temporary one; other actions say nothing.
func (li *Listener) applyDSN(ctx context.Context, email string, rep *Parsed) (string, error) {
	var worst *RecipientStatus
	for i, r := range rep.Recipients {
		if r.Permanent() || (r.Temporary() && (worst == nil || !worst.Permanent())) {
			worst = &rep.Recipients[i]
		}
	}
	if worst == nil {
		return OutcomeIgnored, nil
	}
	typ, outcome := subscribers.BounceSoft, OutcomeSoft
	if worst.Permanent() {
		typ, outcome = subscribers.BounceHard, OutcomeHard
	}
	reason := strings.TrimSpace(worst.Status + " " + worst.Diagnostic)
	_, err := li.Subscribers.Report(ctx, subscribers.Report{Email: email, Type: typ, Reason: reason, Channel: "inbound"})
	return outcome, ignoreInvalid(err)
}

// attribute finds the subscriber and newsletter a report is about: the
// subscriber from the tag of the address it came to, else from the
// one-click unsubscribe link in the original headers (signed too); the
// newsletter from that link or the original List-Id.
func (li *Listener) attribute(t Target, original textproto.MIMEHeader) (int64, string) {
	id, nl := t.SubscriberID, ""
	if original == nil {
		return id, nl
	}
	if uid, unl, ok := li.unsubscribeLink(original.Get("List-Unsubscribe")); ok {
		if id == 0 || id == uid {
			id, nl = uid, unl
		}
	}
	if nl == "" {
		nl = listIDNewsletter(original.Get("List-Id"))
	}
	return id, nl
}

// unsubscribeLink reads the subscriber and newsletter of the https
// one-click link in a List-Unsubscribe header.
func (li *Listener) unsubscribeLink(header string) (int64, string, bool) {
	for _, part := range strings.Split(header, ",") {
		raw := strings.Trim(strings.TrimSpace(part), "<>")
		u, err := url.Parse(raw)
		if err != nil || !strings.HasPrefix(u.Scheme, "http") {
			continue
		}
		if id, nl, err := li.Subscribers.Signer.ParseUnsubscribeToken(u.Query().Get("token")); err == nil {
			return id, nl, true
		}
	}
	return 0, "", false
}

// listIDNewsletter reads the newsletter id from a List-Id such as
// "Daily Brief" <daily.news.example.org>.
func listIDNewsletter(listID string) string {
	_, inner, ok := strings.Cut(listID, "<")
	if !ok {
		return ""
	}
	nl, _, _ := strings.Cut(strings.TrimSuffix(strings.TrimSpace(inner), ">"), ".")
	return nl
}

// unsubscribe carries out a mailto unsubscribe.
func (li *Listener) unsubscribe(ctx context.Context, t Target) (string, error) {
	token := li.Subscribers.Signer.UnsubscribeToken(t.SubscriberID, t.Newsletter)
	_, err := li.Subscribers.Unsubscribe(ctx, token, subscribers.RequestMeta{Source: "mailto"})
	return OutcomeUnsubscribe, ignoreInvalid(err)
}

// ignoreInvalid drops the errors of a report that the service refuses as
// invalid (an address it cannot read): acting on it again would not help.
func ignoreInvalid(err error) error {
	var e *newsletter.Error
	if errors.As(err, &e) && e.Code != newsletter.EINTERNAL {
		return nil
	}
	return err
}
