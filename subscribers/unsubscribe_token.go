package subscribers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"

	"newsletter"
)

// Signer makes and checks unsubscribe tokens. They are stateless: the
// subscriber id and newsletter, then an HMAC-SHA256 tag, so they work for as
// long as the service runs. The first key signs; every key verifies, so
// keys can be rotated without breaking links already sent.
type Signer struct {
	keys [][]byte
}

// unsubscribeTagBytes is the length of the tag: 128 bits.
const unsubscribeTagBytes = 16

// NewSigner returns a Signer over the service's secrets.
func NewSigner(secrets []string) (*Signer, error) {
	if len(secrets) == 0 {
		return nil, errors.New("subscribers: no secret to sign unsubscribe tokens with")
	}
	s := &Signer{}
	for _, secret := range secrets {
		s.keys = append(s.keys, []byte(secret))
	}
	return s, nil
}

// UnsubscribeToken returns the token that unsubscribes subscriber id from
// newsletter nl.
func (s *Signer) UnsubscribeToken(id int64, nl string) string {
	payload := unsubscribePayload(id, nl)
	return base64.RawURLEncoding.EncodeToString(payload) + "." +
		base64.RawURLEncoding.EncodeToString(tag(s.keys[0], payload))
}

var errInvalidUnsubscribe = &newsletter.Error{Code: newsletter.EINVALIDTOKEN,
	Message: "This unsubscribe link is not valid. Please use the link from a recent email.", Field: "token"}

// ParseUnsubscribeToken returns the subscriber id and newsletter a token was
// made for, or an invalid_token error.
func (s *Signer) ParseUnsubscribeToken(token string) (int64, string, error) {
	p64, t64, ok := strings.Cut(token, ".")
	payload, ok1 := decodeCanonical(p64)
	given, ok2 := decodeCanonical(t64)
	if !ok || !ok1 || !ok2 || len(given) != unsubscribeTagBytes {
		return 0, "", errInvalidUnsubscribe
	}
	for _, key := range s.keys {
		if hmac.Equal(tag(key, payload), given) {
			return parseUnsubscribePayload(payload)
		}
	}
	return 0, "", errInvalidUnsubscribe
}

// decodeCanonical decodes unpadded base64url, and reports whether s is
// exactly how the result encodes: the decoder skips CR and LF, which would
// let one token be written many ways.
func decodeCanonical(s string) ([]byte, bool) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return b, err == nil && base64.RawURLEncoding.EncodeToString(b) == s
}

func unsubscribePayload(id int64, nl string) []byte {
	b := binary.AppendUvarint(nil, uint64(id))
	return append(b, nl...)
}

// parseUnsubscribePayload decodes a payload that unsubscribePayload made.
// A varint can be written longer than needed ("\xff\x00" is 127, as is
// "\x7f"); only the shortest form is accepted, so that one subscriber and
// newsletter have exactly one token per key.
func parseUnsubscribePayload(p []byte) (int64, string, error) {
	id, n := binary.Uvarint(p)
	if n <= 0 || n != len(binary.AppendUvarint(nil, id)) || newsletter.ValidateID(string(p[n:])) != nil {
		return 0, "", errInvalidUnsubscribe
	}
	return int64(id), string(p[n:]), nil
}

func tag(key, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("unsubscribe\x00"))
	m.Write(payload)
	return m.Sum(nil)[:unsubscribeTagBytes]
}
