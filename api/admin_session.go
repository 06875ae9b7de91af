package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"
)

// The editor pages' cookies and their lifetimes.
const (
	sessionCookie   = "nl_admin"       // the signed-in session, on /admin
	loginCookie     = "nl_admin_login" // the sign-in form's CSRF secret, on /admin/login
	sessionLifetime = 12 * time.Hour
	loginLifetime   = time.Hour
)

// A session cookie is base64url(payload || HMAC-SHA256(key, payload)), the
// payload being the expiry (unix seconds), the tag of the editor token
// that signed in, and a random nonce. Nothing is stored: a cookie is good
// until it expires or its token leaves the configured list.
const (
	tagLen     = 8
	nonceLen   = 16
	payloadLen = 8 + tagLen + nonceLen
	cookieLen  = payloadLen + sha256.Size
)

var b64 = base64.RawURLEncoding

// sessions issues and checks the signed cookies of the editor pages and
// the CSRF tokens derived from them.
type sessions struct {
	key  []byte
	tags [][]byte // the tag of each editor token
}

// newSessions returns sessions signed with key (a random one when empty)
// for the given editor tokens.
func newSessions(key []byte, tokens []string) *sessions {
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key)
	}
	ss := &sessions{key: key}
	for _, t := range tokens {
		ss.tags = append(ss.tags, ss.tag(t))
	}
	return ss
}

// mac returns the HMAC of label and data, so that a value made for one
// purpose never passes for another.
func (ss *sessions) mac(label string, data ...[]byte) []byte {
	m := hmac.New(sha256.New, ss.key)
	m.Write([]byte(label))
	m.Write([]byte{0})
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}

func (ss *sessions) tag(token string) []byte { return ss.mac("token", []byte(token))[:tagLen] }

// issue returns a new session cookie value for an editor who signed in
// with token, valid until now plus the session lifetime.
func (ss *sessions) issue(token string, now time.Time) string {
	payload := make([]byte, 8, cookieLen)
	binary.BigEndian.PutUint64(payload, uint64(now.Add(sessionLifetime).Unix()))
	payload = append(payload, ss.tag(token)...)
	nonce := make([]byte, nonceLen)
	rand.Read(nonce)
	payload = append(payload, nonce...)
	return b64.EncodeToString(append(payload, ss.mac("session", payload)...))
}

// valid reports whether value is a session cookie this server issued, not
// expired at now, whose token is still an editor token.
func (ss *sessions) valid(value string, now time.Time) bool {
	raw, err := b64.DecodeString(value)
	if err != nil || len(raw) != cookieLen {
		return false
	}
	payload, sum := raw[:payloadLen], raw[payloadLen:]
	if !hmac.Equal(sum, ss.mac("session", payload)) {
		return false
	}
	if int64(binary.BigEndian.Uint64(payload)) <= now.Unix() {
		return false
	}
	match := 0
	for _, t := range ss.tags {
		match |= subtle.ConstantTimeCompare(payload[8:8+tagLen], t)
	}
	return match == 1
}

// csrf returns the CSRF token of the forms of session value.
func (ss *sessions) csrf(value string) string {
	return b64.EncodeToString(ss.mac("csrf", []byte(value)))
}

// loginCSRF returns the CSRF token of the sign-in form whose secret, in
// the login cookie, is value.
func (ss *sessions) loginCSRF(value string) string {
	return b64.EncodeToString(ss.mac("login", []byte(value)))
}

// sameToken compares two tokens in constant time.
func sameToken(given, want string) bool {
	return want != "" && hmac.Equal([]byte(strings.TrimSpace(given)), []byte(want))
}

// randomValue returns 16 random bytes in base64url.
func randomValue() string {
	b := make([]byte, 16)
	rand.Read(b)
	return b64.EncodeToString(b)
}
