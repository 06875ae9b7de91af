package mailtest

import (
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"strings"
)

// Parts returns the decoded bodies of the message's parts, keyed by media
// type ("text/plain", "text/html"), and the message's own media type.
func (r Received) Parts() (mediaType string, parts map[string]string, err error) {
	m, err := r.Parse()
	if err != nil {
		return "", nil, err
	}
	mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		return "", nil, err
	}
	parts = map[string]string{}
	if !strings.HasPrefix(mediaType, "multipart/") {
		body, err := decodeBody(m.Body, m.Header.Get("Content-Transfer-Encoding"))
		parts[mediaType] = body
		return mediaType, parts, err
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return mediaType, parts, nil
		} else if err != nil {
			return mediaType, parts, err
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if parts[pt], err = decodeBody(p, p.Header.Get("Content-Transfer-Encoding")); err != nil {
			return mediaType, parts, fmt.Errorf("part %s: %w", pt, err)
		}
	}
}

func decodeBody(r io.Reader, encoding string) (string, error) {
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(r)
	return string(b), err
}
