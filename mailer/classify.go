package mailer

import (
	"errors"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// Class says what a send error means for the sender.
type Class int

// The classes of send errors, from the reply code and the enhanced status
// code (RFC 3463), never from the words of the reply.
const (
	Delivered  Class = iota // no error
	Temporary               // 4xx or a network/timeout error: try again later
	SlowDown                // 421, 454 or any 4.7.x: temporary, and the sender should slow down
	Permanent               // 5xx: count as failed, never retry
	HardBounce              // 5.1.1, 5.1.2, 5.1.10, 5.2.1, 5.4.4: permanent, and the address should be suppressed
	Policy                  // 5.7.x: permanent, not the reader's fault: do not suppress, log loudly
	// Local: our side is broken (the outbox's file system, making or
	// signing a message), not the recipient's fault. Sending the same
	// message again will not help quickly, not without an operator's fix:
	// keep the message for a later retry and log the cause. Not temporary.
	Local
)

var classNames = [...]string{"delivered", "temporary", "slow_down", "permanent", "hard_bounce", "policy", "local"}

// String returns the class in snake case, such as "hard_bounce".
func (c Class) String() string {
	if c < 0 || int(c) >= len(classNames) {
		return "Class(" + strconv.Itoa(int(c)) + ")"
	}
	return classNames[c]
}

// hardBounces are the enhanced codes that say the address does not work:
// bad mailbox, bad domain, mailbox disabled, null MX, no route.
var hardBounces = map[string]bool{"5.1.1": true, "5.1.2": true, "5.1.10": true, "5.2.1": true, "5.4.4": true}

// Classify says what err, returned by a Sender, means. A reply is classed by
// ReplyCode: 421, 454 and 4.7.x are SlowDown, other 4xx Temporary; the
// enhanced codes of hardBounces are HardBounce, 5.7.x Policy, other 5xx
// Permanent. An error without a reply is Local when our side failed: the
// file system (a *fs.PathError or *os.LinkError that no *net.OpError
// holds, such as an Outbox that cannot write its folder), or making,
// encoding or signing the message. It is Temporary when the connection
// failed or timed out, the context ended or the Sender was closed, and
// Permanent otherwise (an invalid message, a bad TLS or AUTH setup).
func Classify(err error) Class {
	if err == nil {
		return Delivered
	}
	code, enhanced := ReplyCode(err)
	switch code / 100 {
	case 4:
		if code == 421 || code == 454 || strings.HasPrefix(enhanced, "4.7.") {
			return SlowDown
		}
		return Temporary
	case 5:
		switch {
		case hardBounces[enhanced]:
			return HardBounce
		case strings.HasPrefix(enhanced, "5.7."):
			return Policy
		}
		return Permanent
	}
	if isLocal(err) { // before transient: a syscall.Errno is a net.Error too
		return Local
	}
	if transient(err) {
		return Temporary
	}
	return Permanent
}

// ReplyCode returns the code of the SMTP reply that err reports, such as
// 550, and its enhanced status code, such as "5.1.1", for logging. The
// enhanced code is taken only from the start of a line of the reply, where
// RFC 2034 puts it, and only when its class agrees with the reply code;
// otherwise it is "". ReplyCode returns 0, "" when err holds no reply.
func ReplyCode(err error) (code int, enhanced string) {
	var se *gomail.SendError
	var te *textproto.Error
	switch {
	case errors.As(err, &se) && se.ErrorCode() != 0:
		// A SendError does not unwrap to the reply: read its text.
		return se.ErrorCode(), enhancedCode(se.ErrorCode(), replyText(se.Error(), se.ErrorCode()))
	case errors.As(err, &te):
		return te.Code, enhancedCode(te.Code, te.Msg)
	}
	return 0, ""
}

// replyText returns the text of the reply with that code inside a
// SendError's message: "... command: 550 "5.1.1 no such user", affected ...".
// Since Go 1.26 a textproto.Error quotes the reply text; older versions did
// not.
func replyText(msg string, code int) string {
	_, text, ok := strings.Cut(msg, strconv.Itoa(code)+" ")
	if !ok {
		return ""
	}
	if q, err := strconv.QuotedPrefix(text); err == nil {
		text, _ = strconv.Unquote(q)
	}
	return text
}

var enhancedRE = regexp.MustCompile(`^([245])\.\d{1,3}\.\d{1,3}(?:[ \t]|$)`)

// enhancedCode returns the first enhanced status code that starts a line of
// text (go-smtp puts it on the last line only), if its class is code's.
func enhancedCode(code int, text string) string {
	for line := range strings.SplitSeq(text, "\n") {
		m := enhancedRE.FindStringSubmatch(strings.TrimSpace(line))
		if m != nil && int(m[1][0]-'0') == code/100 {
			return strings.TrimSpace(m[0])
		}
	}
	return ""
}
