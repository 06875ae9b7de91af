package subscribers

import (
	"encoding/binary"
	"strings"
	"time"

	"newsletter"
)

// A confirmation token is sealed with the service's secrets (Sealer:
// AES-GCM, so it can be neither read nor forged without them): the
// subscriber id, the unix second of the signup that sent it, and the
// newsletters it confirms. Nothing of it is stored, so a copy of Redis
// confirms nobody and a token costs Redis nothing. What a token may still
// do follows from the subscriber's hash: it confirms a subscription that is
// pending since no later than the token (a signup after an unsubscription
// starts a new pending period, which an older token does not confirm), and
// none once "This wasn't me" voided the tokens up to a second (tv) or the
// subscriber was erased. The id inside is unreadable, so a token tells
// nothing of how many subscribers there are.
const (
	tokenIDBytes    = 8
	tokenSeqBytes   = 4
	tokenTimeBytes  = 4
	tokenFixedBytes = tokenIDBytes + tokenSeqBytes + tokenTimeBytes
	maxConfirmToken = 1024 // characters; longer is not a token
)

var errInvalidToken = &newsletter.Error{Code: newsletter.EINVALIDTOKEN,
	Message: "This confirmation link is not valid. Please sign up again to get a new one.", Field: "token"}

var errExpiredToken = &newsletter.Error{Code: newsletter.EEXPIREDTOKEN,
	Message: "This confirmation link has expired. Please sign up again to get a new one.", Field: "token"}

// tokenClaim is what a confirmation token says.
type tokenClaim struct {
	SubscriberID int64
	Issued       time.Time // the signup's second
	Newsletters  []string
	seq          int64 // the token's number among the subscriber's (field tn)
}

// confirmToken returns the token that confirms what c says.
func (s *Sealer) confirmToken(c tokenClaim) string {
	b := make([]byte, tokenFixedBytes, tokenFixedBytes+32)
	binary.BigEndian.PutUint64(b, uint64(c.SubscriberID))
	binary.BigEndian.PutUint32(b[tokenIDBytes:], uint32(c.seq))
	binary.BigEndian.PutUint32(b[tokenIDBytes+tokenSeqBytes:], uint32(c.Issued.Unix()))
	b = append(b, strings.Join(c.Newsletters, ",")...)
	return s.Seal(string(b))
}

// parseConfirmToken returns what a token says, or errInvalidToken when it
// was not made by confirmToken with one of the secrets.
func (s *Sealer) parseConfirmToken(token string) (tokenClaim, error) {
	if len(token) > maxConfirmToken {
		return tokenClaim{}, errInvalidToken
	}
	plain, err := s.Open(token)
	if err != nil || len(plain) <= tokenFixedBytes {
		return tokenClaim{}, errInvalidToken
	}
	b := []byte(plain)
	c := tokenClaim{SubscriberID: int64(binary.BigEndian.Uint64(b)),
		seq:         int64(binary.BigEndian.Uint32(b[tokenIDBytes:])),
		Issued:      time.Unix(int64(binary.BigEndian.Uint32(b[tokenIDBytes+tokenSeqBytes:])), 0).UTC(),
		Newsletters: strings.Split(string(b[tokenFixedBytes:]), ",")}
	for _, nl := range c.Newsletters {
		if newsletter.ValidateID(nl) != nil {
			return tokenClaim{}, errInvalidToken
		}
	}
	return c, nil
}
