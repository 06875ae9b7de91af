package subscribers

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"newsletter"
	"newsletter/throttle"
)

// Limits on what a signup may carry.
const (
	maxSignupNewsletters = 20
	maxSignupName        = 200
)

// SignupRequest is one reader's request to subscribe, as a form sends it.
type SignupRequest struct {
	Email       string
	Newsletters []string
	Name        string
	Honeypot    string // the hidden "website" field; bots fill it
	Meta        RequestMeta
	Limit       SignupLimit // taken from in the same round trip as the signup
}

// SignupLimit is the limit on signups from one client: the window and the
// client's key in it, and a wider window for the client's network (an
// IPv6 /48, whose holder can take 65,536 fresh /64s) and its key there. A
// nil Window limits nothing; a signup takes from both only when both have
// room.
type SignupLimit struct {
	Window     *throttle.Window
	Key        string
	Network    *throttle.Window
	NetworkKey string // "" for none (IPv4)
}

// Take takes one signup from the limits at now, as Subscribe does, for an
// attempt that never reached Subscribe's round trip (a bad request, say);
// it returns a *LimitedError when the client is past a limit.
func (l SignupLimit) Take(ctx context.Context, now time.Time) error {
	for _, w := range []struct {
		window *throttle.Window
		key    string
	}{{l.Window, l.Key}, {l.Network, l.NetworkKey}} {
		if w.window == nil || w.key == "" {
			continue
		}
		wait, err := w.window.Allow(ctx, w.key, now)
		if err != nil {
			return err
		} else if wait > 0 {
			return &LimitedError{Wait: wait}
		}
	}
	return nil
}

// windows are the limit's windows as the gate script takes them.
func (l SignupLimit) windows() []*windowArgs {
	var out []*windowArgs
	if full, window, limit, ok := l.Window.Spec(l.Key); ok {
		out = append(out, &windowArgs{key: full, window: window, limit: limit, member: throttle.Member()})
	}
	if l.NetworkKey != "" {
		if full, window, limit, ok := l.Network.Spec(l.NetworkKey); ok {
			out = append(out, &windowArgs{key: full, window: window, limit: limit, member: throttle.Member()})
		}
	}
	return out
}

// LimitedError says that a client signed up too often lately, and how long
// until it may again.
type LimitedError struct{ Wait time.Duration }

func (e *LimitedError) Error() string {
	return fmt.Sprintf("subscribers: too many signups from this client; wait %s", e.Wait)
}

// Subscribe records a pending subscription of req.Email to each named
// newsletter and queues a confirmation email in the outbox, unless every
// named newsletter is already confirmed for that address, the address is
// suppressed, or a confirmation limit holds the email back. Its result is
// the same in every case, whether or not the address was known, so callers
// can answer alike.
func (s *Service) Subscribe(ctx context.Context, req SignupRequest) error {
	addr, err := NormalizeAddress(req.Email)
	if err != nil {
		return err
	}
	nls, err := s.resolveNewsletters(ctx, req.Newsletters)
	if err != nil {
		return err
	}
	if req.Honeypot != "" {
		return req.Limit.Take(ctx, s.Now())
	}
	if err := s.subscribe(ctx, addr, nls, cleanName(req.Name), req.Meta, req.Limit); err != nil {
		return fmt.Errorf("subscribers: subscribe: %w", err)
	}
	return nil
}

// subscribe records the signup and queues the confirmation email. The
// signup's consent record is kept when it changed a subscription or sent
// an email; a repeat that did neither (held back by a limit, or for
// newsletters already confirmed) leaves no trace, so that nobody can grow
// another reader's history at will. No email goes to a suppressed address
// (answered as any other) or past a confirmation limit; a signup held back
// keeps its pending subscriptions, which an earlier email's link still
// confirms and PurgeUnconfirmed removes in time. The signup proper is
// one atomic step in the address's partition (signupScript; see
// signup_store.go for the round trips around it); the relay
// (RunConfirmationRelay) hands the email on to the Notifier.
func (s *Service) subscribe(ctx context.Context, addr string, nls []string, name string, meta RequestMeta, client SignupLimit) error {
	now := s.Now()
	consent := Consent{Action: ActionSignup, Newsletters: nls, At: now, IP: meta.IP, UserAgent: meta.UserAgent, Source: meta.Source, Wording: s.ConsentWording}
	mailbox := MailboxKey(addr)
	part := partitionOfMailbox(mailbox)
	limits := s.Limits.args(mailbox, part)
	outbox, err := s.confirmationPayload(ctx, addr)
	if err != nil {
		return err
	}
	limits.client = client.windows()
	res, err := s.Store.signup(ctx, signupInput{addr: addr, mailbox: mailbox, part: part, nls: nls, now: now, consent: consent, limits: limits,
		name: name, outbox: outbox})
	if err != nil {
		return err
	}
	if res.wait > 0 {
		return &LimitedError{Wait: res.wait}
	}
	if err := s.Store.durable(ctx, part); err != nil {
		return err
	}
	if res.refused >= 0 {
		s.Logger.Info("Confirmation email held back by a limit", "subscriber_id", res.id, "limit", s.Limits.name(res.refused))
	}
	return nil
}

// resolveNewsletters checks that every id names a newsletter, dropping
// repeats. No id at all means the one newsletter, when there is just one.
func (s *Service) resolveNewsletters(ctx context.Context, ids []string) ([]string, error) {
	ids = dedupe(ids)
	if len(ids) == 0 {
		return s.onlyNewsletter(ctx)
	}
	if len(ids) > maxSignupNewsletters {
		return nil, errUnknownNewsletter
	}
	for _, id := range ids {
		if newsletter.ValidateID(id) != nil {
			return nil, errUnknownNewsletter
		}
	}
	missing, err := s.Store.MissingNewsletters(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("subscribers: subscribe: %w", err)
	} else if len(missing) > 0 {
		return nil, errUnknownNewsletter
	}
	return ids, nil
}

func (s *Service) onlyNewsletter(ctx context.Context) ([]string, error) {
	all, err := s.Store.Newsletters(ctx)
	if err != nil {
		return nil, fmt.Errorf("subscribers: subscribe: %w", err)
	}
	if len(all) != 1 {
		return nil, errUnknownNewsletter
	}
	return []string{all[0].ID}, nil
}

var errUnknownNewsletter = newsletter.FieldError(newsletter.EUNKNOWNNEWSLETTER, "newsletters",
	"Please choose a newsletter to subscribe to.")

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// cleanName keeps a name to one line of printable text of bounded length.
func cleanName(name string) string { return oneLineText(name, maxSignupName) }

// oneLineText keeps s to one line of printable text of at most n bytes:
// control characters become spaces, and runs of white space one space.
func oneLineText(s string, n int) string {
	if plainLine(s) {
		return truncate(s, n)
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return truncate(strings.Join(strings.Fields(s), " "), n)
}

// plainLine reports whether s is printable ASCII without leading, trailing
// or doubled spaces, which oneLineText keeps as it is: most values are,
// and need no copy.
func plainLine(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || (c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' ')) {
			return false
		}
	}
	return true
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
