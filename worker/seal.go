package worker

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
)

// sealer encrypts tokens that must travel through the queue, with keys
// derived from the service's secrets: the first seals, any opens, so the
// secrets can rotate while tasks are queued.
type sealer struct {
	aeads []cipher.AEAD
}

func newSealer(secrets []string) (*sealer, error) {
	if len(secrets) == 0 {
		return nil, errors.New("worker: no secret to seal tokens with")
	}
	s := &sealer{}
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

func (s *sealer) seal(plain string) string {
	a := s.aeads[0]
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(plain)+a.Overhead())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(a.Seal(nonce, nonce, []byte(plain), nil))
}

var errUnseal = errors.New("worker: sealed token does not open with any secret")

func (s *sealer) open(sealed string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
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
