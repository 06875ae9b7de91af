package subscribers

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"

	"newsletter"
)

// Signer makes and checks unsubscribe tokens. They are stateless: the
// subscriber id, encrypted (AES under a key derived from the secret, so a
// token tells nothing of how many subscribers there are or in what order
// they came), and the newsletter, then an HMAC-SHA256 tag, so they work
// for as long as the service runs. The first key signs; every key
// verifies, so keys can be rotated without breaking links already sent;
// tokens of the earlier form (the id in the clear) still verify.
type Signer struct {
	keys   [][]byte
	blocks []cipher.Block // AES for the id, one per key
}

// idBlockBytes is the size of an encrypted id: the id (8 bytes) and 8 zero
// bytes that a wrong decryption would not give back.
const idBlockBytes = aes.BlockSize

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
		sum := sha256.Sum256([]byte("newsletter unsubscribe id\x00" + secret))
		block, err := aes.NewCipher(sum[:16])
		if err != nil {
			return nil, err
		}
		s.blocks = append(s.blocks, block)
	}
	return s, nil
}

// UnsubscribeToken returns the token that unsubscribes subscriber id from
// newsletter nl.
func (s *Signer) UnsubscribeToken(id int64, nl string) string {
	payload := sealedPayload(s.blocks[0], id, nl)
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
	for i, key := range s.keys {
		if hmac.Equal(tag(key, payload), given) {
			if id, nl, ok := openPayload(s.blocks[i], payload); ok {
				return id, nl, nil
			}
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

// sealedPayload is an unsubscribe token's payload: the id encrypted with
// block, then the newsletter.
func sealedPayload(block cipher.Block, id int64, nl string) []byte {
	var plain [idBlockBytes]byte
	binary.BigEndian.PutUint64(plain[:8], uint64(id))
	out := make([]byte, idBlockBytes, idBlockBytes+len(nl))
	block.Encrypt(out, plain[:])
	return append(out, nl...)
}

// openPayload reads a payload that sealedPayload made with block.
func openPayload(block cipher.Block, p []byte) (int64, string, bool) {
	if len(p) <= idBlockBytes || newsletter.ValidateID(string(p[idBlockBytes:])) != nil {
		return 0, "", false
	}
	id, ok := openID(block, p[:idBlockBytes])
	return id, string(p[idBlockBytes:]), ok
}

// openID decrypts an id that sealedPayload encrypted with block; false
// when the block does not decrypt to an id and zeros.
func openID(block cipher.Block, sealed []byte) (int64, bool) {
	var plain [idBlockBytes]byte
	block.Decrypt(plain[:], sealed)
	for _, b := range plain[8:] {
		if b != 0 {
			return 0, false
		}
	}
	return int64(binary.BigEndian.Uint64(plain[:8])), true
}

// unsubscribePayload is the payload of the earlier form, the id in the
// clear (a varint), still accepted.
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
