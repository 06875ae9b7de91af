package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"

	"newsletter/mailer"
)

// sampleMsg is one digest message: its bytes as the sink received them, and
// the same content as a mailer.Message for the Pool.
type sampleMsg struct {
	raw     []byte
	message *mailer.Message
}

// sampleMessage returns the digest message the sink kept during fan-out,
// or, without a fan-out, one of about the same size built by mailer.Bytes.
func (e *env) sampleMessage(fr *fanoutRow) (*sampleMsg, error) {
	if fr.sample == nil {
		return syntheticMessage(e.opt.articleBytes)
	}
	m, err := parseSample(fr.sample)
	if err != nil {
		return nil, fmt.Errorf("the sink's sample message: %w", err)
	}
	return &sampleMsg{raw: fr.sample, message: m}, nil
}

// parseSample turns a received digest message back into a mailer.Message
// with the same parts and list headers.
func parseSample(raw []byte) (*mailer.Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(msg.Header.Get("Subject"))
	m := &mailer.Message{From: msg.Header.Get("From"), To: "pool@bench.example", Subject: subject, Headers: map[string]string{}}
	for _, h := range []string{"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Precedence"} {
		if v := msg.Header.Get(h); v != "" {
			m.Headers[h] = v
		}
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		body, err := partBody(p)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			m.HTML = body
		} else {
			m.Text = body
		}
	}
	if m.HTML == "" || m.Text == "" {
		return nil, fmt.Errorf("want a text and an HTML part")
	}
	return m, nil
}

// partBody reads a part; multipart decodes quoted-printable by itself.
func partBody(p *multipart.Part) (string, error) {
	var r io.Reader = p
	if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
		r = base64.NewDecoder(base64.StdEncoding, p)
	}
	b, err := io.ReadAll(r)
	return string(b), err
}

// syntheticMessage builds a digest-like message: ten articles of summary
// bytes each in HTML and in text.
func syntheticMessage(summary int) (*sampleMsg, error) {
	var html, text strings.Builder
	html.WriteString(`<!doctype html><html><body><table width="100%" style="font-family:Georgia,serif">`)
	for i := range 10 {
		fmt.Fprintf(&html, `<tr><td style="padding:16px 0;border-bottom:1px solid #ddd"><a href="https://news.example/story-%d" style="color:#111;font-size:20px">Story %d</a><p style="color:#333;line-height:1.5">%s</p></td></tr>`, i, i, filler(summary, i))
		fmt.Fprintf(&text, "Story %d\nhttps://news.example/story-%d\n%s\n\n", i, i, filler(summary, i))
	}
	html.WriteString(`</table></body></html>`)
	m := &mailer.Message{From: "Bench Daily <news@bench.example>", To: "pool@bench.example", Subject: "Bench Daily",
		HTML: html.String(), Text: text.String(), Headers: map[string]string{"List-Id": "<bench.localhost>", "Precedence": "bulk"}}
	raw, err := mailer.Bytes(m)
	return &sampleMsg{raw: raw, message: m}, err
}
