package subscribers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

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

// FormTokenTTL is how long a preference page's form may be sent after the
// page was shown.
const FormTokenTTL = 24 * time.Hour

// FormToken returns the token that the forms of the preference page of
// prefs (a preferences token) carry against cross-site requests: the time
// the page was made and a tag over both, so that it serves for that page
// alone and for FormTokenTTL.
func (s *Signer) FormToken(prefs string, at time.Time) string {
	issued := strconv.FormatInt(at.Unix(), 10)
	return issued + "." + base64.RawURLEncoding.EncodeToString(formTag(s.keys[0], prefs, issued))
}

// CheckFormToken reports whether form is a form token of the page of prefs
// made at most FormTokenTTL before now, under any key. It compares in
// constant time.
func (s *Signer) CheckFormToken(prefs, form string, now time.Time) bool {
	issued, t64, ok := strings.Cut(form, ".")
	given, ok1 := decodeCanonical(t64)
	at, err := strconv.ParseInt(issued, 10, 64)
	if !ok || !ok1 || err != nil || strconv.FormatInt(at, 10) != issued {
		return false
	}
	if age := now.Sub(time.Unix(at, 0)); age < -time.Minute || age > FormTokenTTL {
		return false
	}
	for _, key := range s.keys {
		if hmac.Equal(formTag(key, prefs, issued), given) {
			return true
		}
	}
	return false
}

func formTag(key []byte, prefs, issued string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("preferences form\x00"))
	m.Write([]byte(prefs))
	m.Write([]byte{0})
	m.Write([]byte(issued))
	return m.Sum(nil)[:unsubscribeTagBytes]
}
