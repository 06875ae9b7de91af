package digests

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
)

// Links makes and checks the signed links of digest emails: one click link
// per article, {BaseURL}/r/{digest}/{article}/{sig}, which redirects to the
// article, and the open pixel, {BaseURL}/o/{digest}/{sig}. A link names a
// digest and an article, never a reader: it is the same in every copy.
// The signature is an HMAC-SHA256 under a key derived from the service's
// secret for this purpose alone; the first key signs, every key verifies.
type Links struct {
	baseURL string
	keys    [][]byte
	// TrackOpens adds the open pixel to the HTML of digests
	// (NEWSLETTER_TRACK_OPENS).
	TrackOpens bool
}

// linkSigBytes is the length of a link's signature: 128 bits.
const linkSigBytes = 16

// NewLinks returns the links of a service at baseURL, signed with keys
// derived from secrets.
func NewLinks(baseURL string, secrets []string, trackOpens bool) (*Links, error) {
	if len(secrets) == 0 {
		return nil, errors.New("digests: no secret to sign links with")
	}
	l := &Links{baseURL: baseURL, TrackOpens: trackOpens}
	for _, s := range secrets {
		k := sha256.Sum256([]byte("newsletter digest link\x00" + s))
		l.keys = append(l.keys, k[:])
	}
	return l, nil
}

// Click returns the link to article (its id, articles.IDOf) of digest.
func (l *Links) Click(digest, article string) string {
	return l.baseURL + "/r/" + digest + "/" + article + "/" + linkSig(l.keys[0], "click", digest, article)
}

// Open returns the address of digest's open pixel.
func (l *Links) Open(digest string) string {
	return l.baseURL + "/o/" + digest + "/" + linkSig(l.keys[0], "open", digest, "")
}

// ValidClick reports whether sig signs the click link of article in digest.
func (l *Links) ValidClick(digest, article, sig string) bool {
	return l.valid(sig, "click", digest, article)
}

// ValidOpen reports whether sig signs digest's open pixel.
func (l *Links) ValidOpen(digest, sig string) bool { return l.valid(sig, "open", digest, "") }

func (l *Links) valid(sig, kind, digest, article string) bool {
	for _, k := range l.keys {
		if hmac.Equal([]byte(linkSig(k, kind, digest, article)), []byte(sig)) {
			return true
		}
	}
	return false
}

// linkSig signs a link of kind ("click", "open"): unpadded base64url of
// the HMAC's first 128 bits.
func linkSig(key []byte, kind, digest, article string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(kind + "\x00" + digest + "\x00" + article))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:linkSigBytes])
}
