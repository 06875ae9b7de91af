package articles

import (
	"encoding/json"
	"time"
)

// record is an article as stored in Redis: one-letter names and the
// publication time in Unix milliseconds keep each stored article some 60
// bytes shorter than its API form.
type record struct {
	URL         string   `json:"u"`
	Title       string   `json:"t"`
	Summary     string   `json:"s,omitempty"`
	Published   int64    `json:"p"`
	Author      string   `json:"a,omitempty"`
	Section     string   `json:"c,omitempty"`
	ImageURL    string   `json:"i,omitempty"`
	ImageAlt    string   `json:"ia,omitempty"`
	Newsletters []string `json:"n,omitempty"`
	Lead        bool     `json:"l,omitempty"`
	Position    int      `json:"o,omitempty"`
}

func encodeArticle(a *Article) ([]byte, error) {
	return json.Marshal(record{
		URL: a.URL, Title: a.Title, Summary: a.Summary, Published: millis(a.PublishedAt),
		Author: a.Author, Section: a.Section, ImageURL: a.ImageURL, ImageAlt: a.ImageAlt, Newsletters: a.Newsletters,
		Lead: a.Lead, Position: a.Position,
	})
}

func decodeArticle(raw []byte) (*Article, error) {
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	return &Article{
		ID: urlHash(r.URL), URL: r.URL, Title: r.Title, Summary: r.Summary, PublishedAt: time.UnixMilli(r.Published).UTC(),
		Author: r.Author, Section: r.Section, ImageURL: r.ImageURL, ImageAlt: r.ImageAlt, Newsletters: r.Newsletters,
		Lead: r.Lead, Position: r.Position,
	}, nil
}
