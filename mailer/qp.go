package mailer

// qpMaxLine is the longest encoded line appendQP writes, soft break
// included; RFC 2045 allows 76.
const qpMaxLine = 76

const hexUpper = "0123456789ABCDEF"

// qpState is where an encoded line stands: how many bytes it holds.
type qpState struct{ col int }

// appendQP appends s to dst as quoted-printable (RFC 2045 6.7), starting at
// column st.col and leaving st at the column it ends on. Line breaks in s
// (LF or CRLF; a lone CR is encoded) become CRLF; '=', controls and bytes
// above '~' are encoded; a space or tab is encoded when a line break or the
// end of s follows it, so no line ends in white space whatever comes next;
// a dot that would start a line is encoded, so no line starts with one and
// SMTP has nothing to dot-stuff. Encoded lines are at most 76 bytes.
func appendQP(dst []byte, s string, st *qpState) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n':
			dst = append(dst, '\r', '\n')
			st.col = 0
			continue
		case c == '\r' && i+1 < len(s) && s[i+1] == '\n':
			continue // the LF writes the break
		}
		width := 1
		if qpNeedsEncoding(c) || (c == ' ' || c == '\t') && qpEndsLine(s, i+1) {
			width = 3
		}
		if st.col+width > qpMaxLine-1 { // keep room for the soft break's '='
			dst = append(dst, '=', '\r', '\n')
			st.col = 0
		}
		if c == '.' && st.col == 0 {
			width = 3
		}
		if width == 3 {
			dst = append(dst, '=', hexUpper[c>>4], hexUpper[c&0x0f])
		} else {
			dst = append(dst, c)
		}
		st.col += width
	}
	return dst
}

// qpSoftBreak ends the current encoded line with a soft break, which
// decoders drop, so that what follows starts a line of its own.
func qpSoftBreak(dst []byte, st *qpState) []byte {
	if st.col == 0 {
		return dst
	}
	st.col = 0
	return append(dst, '=', '\r', '\n')
}

func qpNeedsEncoding(c byte) bool {
	return c == '=' || c > '~' || (c < ' ' && c != '\t')
}

// qpEndsLine says whether s has a line break or its end at i.
func qpEndsLine(s string, i int) bool {
	return i == len(s) || s[i] == '\n' || s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n'
}
