package api

import "newsletter/digests"

// clickChart is a digest's clicks per article as a bar chart that the
// digest page draws in SVG on the server: no script, and the same numbers
// in a table for screen readers and for copying.
type clickChart struct {
	Width, Height int
	Bars          []clickBar
}

// clickBar is one article's row: its clicks (the long bar) and estimated
// unique clickers (the thin bar under it), scaled to the busiest article.
type clickBar struct {
	digests.ArticleClicks
	Label                    string
	Y, TextY, UniqueY        int
	ClicksWidth, UniqueWidth int
	ClicksTextX, UniqueTextX int
}

// The chart's geometry, in SVG units.
const (
	chartWidth    = 640
	chartLabelW   = 220 // the article titles' column
	chartBarMax   = 360 // the longest bar
	chartRow      = 34
	chartLabelLen = 34 // characters of a title shown
)

// newClickChart lays out the bars of clicks per article.
func newClickChart(c digests.ClickStats) *clickChart {
	if len(c.Articles) == 0 {
		return nil
	}
	top := int64(1)
	for _, a := range c.Articles {
		top = max(top, a.Clicks, a.Unique)
	}
	ch := &clickChart{Width: chartWidth, Height: chartRow * len(c.Articles)}
	for i, a := range c.Articles {
		y := i * chartRow
		b := clickBar{ArticleClicks: a, Label: chartLabel(a.Title), Y: y + 4, TextY: y + 16, UniqueY: y + 21,
			ClicksWidth: int(a.Clicks * chartBarMax / top), UniqueWidth: int(a.Unique * chartBarMax / top)}
		b.ClicksTextX, b.UniqueTextX = chartLabelW+b.ClicksWidth+6, chartLabelW+b.UniqueWidth+6
		ch.Bars = append(ch.Bars, b)
	}
	return ch
}

// chartLabel is a title cut to chartLabelLen characters, with an ellipsis
// when it was longer.
func chartLabel(s string) string {
	n := chartLabelLen
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
