package mailer

import (
	"mime"
	"strings"
	"unicode/utf8"
)

// encodeSubject returns s (one line already) as a Subject header value.
// Plain ASCII stays as it is and other text is Q-encoded, as usual; but
// text that holds "=?" is encoded whole, even when it is ASCII: left raw,
// mail clients would decode an editor's "=?utf-8?q?...?=" into something
// else than what the editor wrote.
func encodeSubject(s string) string {
	if !strings.Contains(s, "=?") {
		return mime.QEncoding.Encode("UTF-8", s)
	}
	return forceQ(s)
}

// forceQ Q-encodes s as RFC 2047 encoded-words of at most 75 characters
// each, separated by spaces, splitting only between characters.
func forceQ(s string) string {
	const prefix, suffix, maxWord = "=?UTF-8?q?", "?=", 75
	var out, word strings.Builder
	flush := func() {
		if word.Len() == 0 {
			return
		}
		if out.Len() > 0 {
			out.WriteByte(' ')
		}
		out.WriteString(prefix + word.String() + suffix)
		word.Reset()
	}
	for _, r := range s {
		enc := qRune(r)
		if len(prefix)+word.Len()+len(enc)+len(suffix) > maxWord {
			flush()
		}
		word.WriteString(enc)
	}
	flush()
	return out.String()
}

// qRune is rune r in Q encoding (RFC 2047, section 4.2).
func qRune(r rune) string {
	if r == ' ' {
		return "_"
	}
	if r < utf8.RuneSelf && r > ' ' && r < 0x7f && !strings.ContainsRune("=?_\"(),.:;<>@[\\]", r) {
		return string(r)
	}
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for _, c := range buf[:n] {
		b.WriteByte('=')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
