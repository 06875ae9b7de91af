package articles

import (
	"strings"

	"golang.org/x/net/html"
)

// maxStripped bounds the text stripHTML collects before it stops reading:
// far more than a summary keeps, far less than a 10 MiB body.
const maxStripped = 64 << 10

// hiddenElement reports whether the content of element name is something
// other than text a reader sees.
func hiddenElement(name string) bool {
	switch name {
	case "script", "style", "head", "title", "template",
		"noscript", "iframe", "object", "svg", "math":
		return true
	}
	return false
}

// inlineElement reports whether element name flows with the text around
// it; any other tag separates words.
func inlineElement(name string) bool {
	switch name {
	case "a", "abbr", "b", "bdi", "bdo", "cite", "code", "em", "font", "i",
		"kbd", "mark", "q", "s", "samp", "small", "span", "strike", "strong",
		"sub", "sup", "time", "u", "var", "wbr":
		return true
	}
	return false
}

// stripHTML returns the text of an HTML fragment on one line: tags dropped,
// entities decoded, scripts, styles and the like left out, white space and
// control characters collapsed or removed.
func stripHTML(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	hidden := 0 // depth inside hidden elements
	for b.Len() < maxStripped {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return oneLine(b.String())
		case html.TextToken:
			if hidden == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			hidden += hiddenDelta(tt, string(name), hidden)
			if !inlineElement(string(name)) {
				b.WriteByte(' ')
			}
		}
	}
	return oneLine(b.String())
}

// hiddenDelta returns how a tag changes the depth inside hidden elements.
func hiddenDelta(tt html.TokenType, name string, depth int) int {
	switch {
	case !hiddenElement(name):
		return 0
	case tt == html.StartTagToken:
		return 1
	case tt == html.EndTagToken && depth > 0:
		return -1
	}
	return 0
}
