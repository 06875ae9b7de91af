package mailer

import (
	"bytes"
	"io"
	"mime/quotedprintable"
	"strings"
	"testing"
)

// checkQP encodes s in two pieces split at cut, joined by a soft break as
// a Template joins its pieces, and checks that it decodes back to s (each
// piece's line breaks as CRLF) with no line over 76 bytes, ending in white
// space or starting with a dot.
func checkQP(t *testing.T, s string, cut int) {
	t.Helper()
	cut = min(max(cut, 0), len(s))
	var st qpState
	enc := appendQP(nil, s[:cut], &st)
	enc = qpSoftBreak(enc, &st)
	enc = appendQP(enc, s[cut:], &st)
	got, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(enc)))
	// Each piece's line breaks become CRLF; a cut between a CR and its LF
	// leaves the CR alone in its piece, and a lone CR is kept as it is.
	want := crlf(s[:cut]) + crlf(s[cut:])
	if err != nil || string(got) != want {
		t.Fatalf("encode(%q) = %q decodes to %q (%v)", s, enc, got, err)
	}
	for line := range bytes.SplitSeq(enc, []byte("\r\n")) {
		if len(line) > qpMaxLine {
			t.Fatalf("encode(%q): line %q is %d bytes", s, line, len(line))
		}
		if n := len(line); n > 0 && (line[n-1] == ' ' || line[n-1] == '\t') {
			t.Fatalf("encode(%q): line %q ends in white space", s, line)
		}
		if bytes.HasPrefix(line, []byte(".")) {
			t.Fatalf("encode(%q): line %q starts with a dot", s, line)
		}
	}
}

// crlf is s with each line break (LF or CRLF) as CRLF.
func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

func TestAppendQP(t *testing.T) {
	for _, s := range []string{
		"", "plain", "a=b", "trailing space ", "tab\t", "space before break \nnext", "crlf\r\nand lf\n",
		"lone\rcr", "ünïcödé ☕", strings.Repeat("x", 200), strings.Repeat("é", 100), strings.Repeat("= ", 60),
		"<a href=\"https://example.org/?a=1&b=2\">link</a>", ".starts with a dot\n.and again", strings.Repeat("x", 74) + "..", strings.Repeat(".", 160),
	} {
		for _, cut := range []int{0, 3, len(s) / 2, len(s)} {
			checkQP(t, s, cut)
		}
	}
}

func FuzzAppendQP(f *testing.F) {
	f.Add("Hello, world = 1 \n\tsecond line ☕", 5)
	f.Add(strings.Repeat("ab ", 40), 40)
	f.Fuzz(func(t *testing.T, s string, cut int) {
		checkQP(t, s, cut)
	})
}

func TestAppendDotStuffed(t *testing.T) {
	for in, want := range map[string]string{
		"":                   "\r\n.\r\n",
		"a\r\n":              "a\r\n.\r\n",
		"no end":             "no end\r\n.\r\n",
		".first\r\n":         "..first\r\n.\r\n",
		"a\r\n.\r\nb\r\n":    "a\r\n..\r\nb\r\n.\r\n",
		"a\r\n..x\r\n.y":     "a\r\n...x\r\n..y\r\n.\r\n",
		"mid.dot\r\n x.\r\n": "mid.dot\r\n x.\r\n.\r\n",
	} {
		if got := string(appendDotStuffed(nil, []byte(in))); got != want {
			t.Errorf("appendDotStuffed(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAppendContentDotFreeSendsAsItIs(t *testing.T) {
	for _, tt := range []struct {
		in      string
		dotFree bool
		want    string
	}{
		{"a\r\n.b\r\n", false, "a\r\n..b\r\n.\r\n"},
		{"a\r\nb", true, "a\r\nb\r\n.\r\n"},
		{"a\r\n.b\r\n", true, "a\r\n.b\r\n.\r\n"}, // not scanned: the caller vouched for it
	} {
		if got := string(appendContent(nil, []byte(tt.in), tt.dotFree)); got != tt.want {
			t.Errorf("appendContent(%q, %v) = %q, want %q", tt.in, tt.dotFree, got, tt.want)
		}
	}
}

func BenchmarkAppendQP(b *testing.B) {
	s := strings.Repeat("<p style=\"margin: 0\">A summary sentence, with an accent: é.</p>\n", 250)
	var dst []byte
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		var st qpState
		dst = appendQP(dst[:0], s, &st)
	}
}
