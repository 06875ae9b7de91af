package subscribers

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"

	"newsletter"
)

// A confirmation token is the subscriber id (8 bytes, big-endian) followed
// by 256 random bits, in unpadded base64url. Only the SHA-256 of the random
// part is stored (with the subscriber id beside it), so a copy of Redis
// confirms nobody, and the hash can be made before the id is known.
const (
	tokenIDBytes     = 8
	tokenRandomBytes = 32
	tokenBytes       = tokenIDBytes + tokenRandomBytes
)

var errInvalidToken = &newsletter.Error{Code: newsletter.EINVALIDTOKEN,
	Message: "This confirmation link is not valid. Please sign up again to get a new one.", Field: "token"}

var errExpiredToken = &newsletter.Error{Code: newsletter.EEXPIREDTOKEN,
	Message: "This confirmation link has expired. Please sign up again to get a new one.", Field: "token"}

// tokenSecret is the random part of a confirmation token.
type tokenSecret [tokenRandomBytes]byte

// newTokenSecret returns a fresh random part and the hex SHA-256 under
// which the token is stored.
func newTokenSecret() (secret tokenSecret, hashHex string) {
	rand.Read(secret[:]) // never fails, per crypto/rand
	return secret, hashToken(secret[:])
}

// confirmToken returns the token of subscriber id with that random part.
func confirmToken(id int64, secret tokenSecret) string {
	var b [tokenBytes]byte
	binary.BigEndian.PutUint64(b[:tokenIDBytes], uint64(id))
	copy(b[tokenIDBytes:], secret[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// parseConfirmToken returns the subscriber id a token claims and the hash
// it is stored under, or errInvalidToken when it cannot be a token.
func parseConfirmToken(token string) (id int64, hashHex string, err error) {
	if base64.RawURLEncoding.DecodedLen(len(token)) != tokenBytes {
		return 0, "", errInvalidToken
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) != tokenBytes {
		return 0, "", errInvalidToken
	}
	return int64(binary.BigEndian.Uint64(b[:tokenIDBytes])), hashToken(b[tokenIDBytes:]), nil
}

func hashToken(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
