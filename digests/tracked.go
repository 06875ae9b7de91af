package digests

import (
	"html"
	"strings"

	"newsletter/articles"
)

// trackedArticles returns d's articles as the email links them: each URL
// replaced by its signed click link when l is set and d has an id (a
// preview has none). The digest keeps the articles' own URLs, where the
// click links lead.
func trackedArticles(l *Links, d *Digest) []articles.Article {
	if l == nil || d.ID == "" {
		return d.Articles
	}
	list := make([]articles.Article, len(d.Articles))
	for i, a := range d.Articles {
		a.URL = l.Click(d.ID, articles.IDOf(a.URL))
		list[i] = a
	}
	return list
}

// addOpenPixel puts a 1×1 image from src at the end of the HTML's body,
// and remembers its tag so that the web view can leave it out.
func (b *Body) addOpenPixel(src string) {
	b.OpenPixel = `<img src="` + html.EscapeString(src) + `" width="1" height="1" alt="" border="0" style="display:block;width:1px;height:1px;border:0;">`
	if i := strings.LastIndex(b.HTML, "</body>"); i >= 0 {
		b.HTML = b.HTML[:i] + b.OpenPixel + b.HTML[i:]
		return
	}
	b.HTML += b.OpenPixel
}
