package subscribers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"newsletter"
)

// PreferencesToken returns the token of subscriber id's preference page
// link: the id encrypted as in unsubscribe tokens, and an HMAC-SHA256 tag
// of its own purpose, so that neither kind of token passes for the other.
// It has no expiry: the link in an old email keeps working, as its
// unsubscribe link does.
func (s *Signer) PreferencesToken(id int64) string {
	payload := sealedPayload(s.blocks[0], id, "")
	return base64.RawURLEncoding.EncodeToString(payload) + "." +
		base64.RawURLEncoding.EncodeToString(preferencesTag(s.keys[0], payload))
}

var errInvalidPreferences = &newsletter.Error{Code: newsletter.EINVALIDTOKEN,
	Message: "This link to your newsletter settings is not valid. Please use the link from a recent email.", Field: "token"}

// ParsePreferencesToken returns the subscriber id a preferences token was
// made for, or an invalid_token error. Every key verifies.
func (s *Signer) ParsePreferencesToken(token string) (int64, error) {
	p64, t64, ok := strings.Cut(token, ".")
	payload, ok1 := decodeCanonical(p64)
	given, ok2 := decodeCanonical(t64)
	if !ok || !ok1 || !ok2 || len(given) != unsubscribeTagBytes || len(payload) != idBlockBytes {
		return 0, errInvalidPreferences
	}
	for i, key := range s.keys {
		if hmac.Equal(preferencesTag(key, payload), given) {
			if id, ok := openID(s.blocks[i], payload); ok && id > 0 {
				return id, nil
			}
			return 0, errInvalidPreferences
		}
	}
	return 0, errInvalidPreferences
}

func preferencesTag(key, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("preferences\x00"))
	m.Write(payload)
	return m.Sum(nil)[:unsubscribeTagBytes]
}
