package subscribers

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"newsletter"
)

// InvalidEmailMessage is the message of every error NormalizeAddress returns.
const InvalidEmailMessage = "Please, enter correct email address"

// Length limits of an address, in bytes, after IDNA conversion.
const (
	maxLocalLen   = 64  // RFC 5321 section 4.5.3.1.1
	maxAddressLen = 254 // RFC 5321 path limit less the angle brackets
	maxLabelLen   = 63  // RFC 1035 section 2.3.4
)

// domainTypos maps well-known misspellings of big providers' domains to the
// domain the person almost certainly meant. Only domains no real mailbox
// provider uses are listed.
var domainTypos = map[string]string{
	// gmail.com
	"gmial.com":  "gmail.com",
	"gmal.com":   "gmail.com",
	"gmaill.com": "gmail.com",
	"gamil.com":  "gmail.com",
	"gnail.com":  "gmail.com",
	"gmail.co":   "gmail.com",
	"gmail.con":  "gmail.com",
	"gmail.cm":   "gmail.com",
	"gmail.om":   "gmail.com",
	"gmail.comm": "gmail.com",
	"gmai.com":   "gmail.com",
	"gmil.com":   "gmail.com",
	"gmali.com":  "gmail.com",
	"gmaul.com":  "gmail.com",
	"gmsil.com":  "gmail.com",
	// hotmail.com
	"hotmial.com":  "hotmail.com",
	"hotmal.com":   "hotmail.com",
	"hotmai.com":   "hotmail.com",
	"hotmail.con":  "hotmail.com",
	"hotmail.co":   "hotmail.com",
	"homail.com":   "hotmail.com",
	"hotmali.com":  "hotmail.com",
	"hotamil.com":  "hotmail.com",
	"hotmil.com":   "hotmail.com",
	"hotmaill.com": "hotmail.com",
	"hotmail.cm":   "hotmail.com",
	// yahoo.com
	"yahoo.co":   "yahoo.com",
	"yaho.com":   "yahoo.com",
	"yahooo.com": "yahoo.com",
	"yahoo.con":  "yahoo.com",
	"yhoo.com":   "yahoo.com",
	"yahho.com":  "yahoo.com",
	"yaoo.com":   "yahoo.com",
	"yahoo.cm":   "yahoo.com",
	// outlook.com
	"outlok.com":   "outlook.com",
	"outloo.com":   "outlook.com",
	"outlook.con":  "outlook.com",
	"otlook.com":   "outlook.com",
	"outllook.com": "outlook.com",
	"outlookk.com": "outlook.com",
	// icloud.com
	"iclod.com":   "icloud.com",
	"icloud.con":  "icloud.com",
	"icoud.com":   "icloud.com",
	"iclould.com": "icloud.com",
	"icluod.com":  "icloud.com",
	// aol.com, live.com
	"aol.con":  "aol.com",
	"live.con": "live.com",
	// protonmail.com
	"protonmail.con": "protonmail.com",
	"protonmial.com": "protonmail.com",
	"protonmai.com":  "protonmail.com",
	"protonmal.com":  "protonmail.com",
}

// NormalizeAddress validates an email address typed into a signup form and
// returns it in canonical form: outer spaces trimmed, the domain converted to
// ASCII (punycode) and lower-cased, the local part kept as typed.
//
// It accepts only a plain dot-atom local part of at most 64 bytes and a
// dotted host name; display names, comments, quoted or non-ASCII local parts,
// IP literals and addresses longer than 254 bytes are refused. Every error is
// a *newsletter.Error with code newsletter.EINVALIDEMAIL; when the domain is
// a well-known misspelling its Suggestion holds the corrected address.
func NormalizeAddress(raw string) (string, error) {
	local, domain, ok := splitAddress(raw)
	if !ok || !validLocal(local) {
		return "", invalidEmail("")
	}
	domain, ok = normalizeDomain(domain)
	if !ok || len(local)+1+len(domain) > maxAddressLen {
		return "", invalidEmail("")
	}
	if fixed, ok := suggestTypo(domain); ok {
		return "", invalidEmail(local + "@" + fixed)
	}
	return local + "@" + domain, nil
}

// AddressKey returns the key under which an address is unique: the
// normalized address lower-cased whole.
func AddressKey(addr string) string {
	return strings.ToLower(addr)
}

// MailboxKey returns the key of the mailbox an address delivers to, which
// many spellings share: lower case, without a +tag in the local part (any
// domain: victim+1@ and victim+2@ reach victim@), and for gmail.com and
// googlemail.com without dots in the local part, as Gmail reads it. The
// confirmation limits, "This wasn't me", the suppression list and the
// partition key on it; email still goes to the address as typed.
func MailboxKey(addr string) string {
	key := strings.ToLower(strings.TrimSpace(addr))
	at := strings.LastIndexByte(key, '@')
	if at <= 0 {
		return key
	}
	local, domain := key[:at], key[at+1:]
	if plus := strings.IndexByte(local, '+'); plus > 0 {
		local = local[:plus]
	}
	if domain == "gmail.com" || domain == "googlemail.com" {
		if dotless := strings.ReplaceAll(local, ".", ""); dotless != "" {
			local = dotless
		}
		domain = "gmail.com"
	}
	return local + "@" + domain
}

// invalidEmail returns the error NormalizeAddress reports, with an optional
// corrected address to offer.
func invalidEmail(suggestion string) error {
	return &newsletter.Error{
		Code:       newsletter.EINVALIDEMAIL,
		Message:    InvalidEmailMessage,
		Field:      "email",
		Suggestion: suggestion,
	}
}

// splitAddress trims outer spaces from raw and splits it at its only '@'.
// It refuses invalid UTF-8, whitespace or control characters inside, and an
// empty local part or domain.
func splitAddress(raw string) (local, domain string, ok bool) {
	s := strings.TrimFunc(raw, unicode.IsSpace)
	if !utf8.ValidString(s) || strings.IndexFunc(s, isSpaceOrControl) >= 0 {
		return "", "", false
	}
	if strings.Count(s, "@") != 1 {
		return "", "", false
	}
	local, domain, _ = strings.Cut(s, "@")
	return local, domain, local != "" && domain != ""
}

// isSpaceOrControl reports whether r may not appear inside an address.
func isSpaceOrControl(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r)
}

// validLocal reports whether local is an RFC 5322 dot-atom of at most 64
// bytes. Quoted strings, comments and non-ASCII characters are refused.
func validLocal(local string) bool {
	if local == "" || len(local) > maxLocalLen {
		return false
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for i := 0; i < len(local); i++ {
		if c := local[i]; c != '.' && !isAtext(c) {
			return false
		}
	}
	return true
}

// isAtext reports whether c is an RFC 5322 atext character.
func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// normalizeDomain converts domain to lower-case ASCII with IDNA (UTS #46
// lookup processing) and reports whether the result is a host name of at
// least two labels whose top-level label is not all digits. A trailing dot
// and IP literals are refused.
func normalizeDomain(domain string) (string, bool) {
	if strings.HasSuffix(domain, ".") {
		return "", false
	}
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil {
		return "", false
	}
	ascii = strings.ToLower(ascii)
	labels := strings.Split(ascii, ".")
	if len(labels) < 2 {
		return "", false
	}
	for _, label := range labels {
		if !validLabel(label) {
			return "", false
		}
	}
	if allDigits(labels[len(labels)-1]) {
		return "", false
	}
	return ascii, true
}

// validLabel reports whether label is an ASCII host-name label: 1 to 63
// letters, digits or hyphens, neither starting nor ending with a hyphen.
func validLabel(label string) bool {
	if label == "" || len(label) > maxLabelLen {
		return false
	}
	if label[0] == '-' || label[len(label)-1] == '-' {
		return false
	}
	for i := 0; i < len(label); i++ {
		c := label[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// allDigits reports whether s is made of ASCII digits only.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// suggestTypo returns the domain meant by a well-known misspelling of a big
// provider's domain.
func suggestTypo(domain string) (string, bool) {
	fixed, ok := domainTypos[domain]
	return fixed, ok
}
