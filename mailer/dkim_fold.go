package mailer

import "strings"

const (
	foldWidth = 78 // the line length RFC 5322 asks for
	sigChunk  = 72 // base64 characters of b= per line
)

// refold returns the value of go-mail's DKIM-Signature field, folded anew.
//
// go-mail v0.8.1 folds a tag longer than a line (h= once it lists the List-*
// fields) in the middle. Relaxed canonicalization unfolds that into a space
// that was not signed, so every verifier fails the signature. The value
// signed is the tags, which hold no white space, joined by "; ". refold
// rebuilds it and folds only where unfolding gives back those bytes: between
// tags (";" CRLF SP unfolds to "; ") and inside b=, which verifiers remove
// before they hash the field.
func refold(field string) string {
	tags := strings.Split(strings.TrimPrefix(field, "DKIM-Signature:"), ";")
	var b strings.Builder
	col := len("DKIM-Signature: ")
	for i, tag := range tags {
		tag = strings.Join(strings.Fields(tag), "")
		if i < len(tags)-1 {
			tag += ";"
		}
		if i > 0 {
			if strings.HasPrefix(tag, "b=") || col+1+len(tag) > foldWidth {
				b.WriteString("\r\n")
				col = 0
			}
			b.WriteByte(' ')
			col++
		}
		if strings.HasPrefix(tag, "b=") {
			writeSignature(&b, tag)
			continue
		}
		b.WriteString(tag)
		col += len(tag)
	}
	return b.String()
}

// writeSignature writes the b= tag, sigChunk characters of it per line.
func writeSignature(b *strings.Builder, tag string) {
	b.WriteString("b=")
	sig := strings.TrimPrefix(tag, "b=")
	for len(sig) > sigChunk {
		b.WriteString(sig[:sigChunk])
		b.WriteString("\r\n ")
		sig = sig[sigChunk:]
	}
	b.WriteString(sig)
}
