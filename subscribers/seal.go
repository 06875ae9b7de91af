package subscribers

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// Sealer encrypts tokens that must wait in Redis (in the confirmation
// outbox and in queued tasks), with keys derived from the service's
// secrets: the first seals, any opens, so the secrets can rotate while
// tokens wait.
type Sealer struct {
	aeads []cipher.AEAD
}

// NewSealer returns a Sealer that seals with the first of secrets and opens
// with any of them.
func NewSealer(secrets []string) (*Sealer, error) {
	if len(secrets) == 0 {
		return nil, errors.New("subscribers: no secret to seal tokens with")
	}
	s := &Sealer{}
	for _, secret := range secrets {
		key := sha256.Sum256([]byte("newsletter token seal\x00" + secret))
		block, err := aes.NewCipher(key[:])
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		s.aeads = append(s.aeads, aead)
	}
	return s, nil
}

// Seal encrypts plain with the first secret, for Open.
func (s *Sealer) Seal(plain string) string {
	a := s.aeads[0]
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(plain)+a.Overhead())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(a.Seal(nonce, nonce, []byte(plain), nil))
}

var errUnseal = errors.New("subscribers: sealed token does not open with any secret")

// Open decrypts what Seal made with any of the secrets. It takes Seal's
// spelling only: no padding, no line breaks, no other alphabet, no
// non-zero trailing bits.
func (s *Sealer) Open(sealed string) (string, error) {
	if strings.ContainsAny(sealed, "\r\n") {
		return "", errUnseal
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(sealed)
	if err != nil {
		return "", errUnseal
	}
	for _, a := range s.aeads {
		if len(raw) < a.NonceSize() {
			break
		}
		if plain, err := a.Open(nil, raw[:a.NonceSize()], raw[a.NonceSize():], nil); err == nil {
			return string(plain), nil
		}
	}
	return "", errUnseal
}
