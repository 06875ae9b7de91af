package bounces

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"strings"

	"newsletter"
)

// Addresses makes and reads the tagged addresses of one bounce domain:
// the envelope sender of a digest message, bounces+TAG@domain, and the
// mailto unsubscribe address, unsubscribe+TAG.NEWSLETTER@domain. A tag is
// the subscriber id and an HMAC-SHA256 of it (cut to 64 bits) under the
// service's secret, in lower-case base32, so that mail systems that fold
// the case of local parts keep it, and nobody can make a report about
// someone else. The first secret signs; every secret verifies.
type Addresses struct {
	bounceLocal string // the local part of the bounce address, "bounces"
	domain      string
	keys        [][]byte
}

// unsubscribeLocal is the local part of the mailto unsubscribe address.
const unsubscribeLocal = "unsubscribe"

// tagMACBytes is how much of the HMAC a tag keeps: 64 bits.
const tagMACBytes = 8

// maxLocalPart is RFC 5321's limit on a local part.
const maxLocalPart = 64

var tagEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewAddresses returns the Addresses of bounce address bounce (as
// NEWSLETTER_BOUNCE_ADDRESS gives it, "bounces@bounce.example.org"),
// signing with the first of secrets.
func NewAddresses(bounce string, secrets []string) (*Addresses, error) {
	local, domain, ok := strings.Cut(strings.TrimSpace(bounce), "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(local, "+@ <>\"") || strings.ContainsAny(domain, "@ <>\"") {
		return nil, errors.New("bounces: the bounce address must be a plain address such as bounces@bounce.example.org")
	}
	if len(secrets) == 0 {
		return nil, errors.New("bounces: no secret to sign tags with")
	}
	a := &Addresses{bounceLocal: strings.ToLower(local), domain: strings.ToLower(domain)}
	for _, s := range secrets {
		a.keys = append(a.keys, []byte(s))
	}
	return a, nil
}

// Domain is the domain of the bounce and unsubscribe addresses.
func (a *Addresses) Domain() string { return a.domain }

// ReturnPath is the envelope sender of a message to subscriber id.
func (a *Addresses) ReturnPath(id int64) string {
	return a.bounceLocal + "+" + a.tag("bounce", id, "") + "@" + a.domain
}

// Unsubscribe is the mailto unsubscribe address of subscriber id for
// newsletter nl, or "" when it would not fit in a local part.
func (a *Addresses) Unsubscribe(id int64, nl string) string {
	local := unsubscribeLocal + "+" + a.tag("unsubscribe", id, nl) + "." + nl
	if len(local) > maxLocalPart {
		return ""
	}
	return local + "@" + a.domain
}

// Kinds of tagged address.
const (
	KindBounce      = "bounce"
	KindUnsubscribe = "unsubscribe"
)

// Target is what a tagged address names.
type Target struct {
	Kind         string // KindBounce or KindUnsubscribe
	SubscriberID int64
	Newsletter   string // for KindUnsubscribe
}

// Parse reads a recipient address of the listener: one of this domain's
// tagged addresses with a tag that verifies.
func (a *Addresses) Parse(addr string) (Target, bool) {
	local, domain, ok := strings.Cut(strings.ToLower(strings.TrimSpace(addr)), "@")
	if !ok || domain != a.domain {
		return Target{}, false
	}
	base, tag, ok := strings.Cut(local, "+")
	if !ok {
		return Target{}, false
	}
	switch base {
	case a.bounceLocal:
		id, ok := a.verify("bounce", tag, "")
		return Target{Kind: KindBounce, SubscriberID: id}, ok
	case unsubscribeLocal:
		tag, nl, ok := strings.Cut(tag, ".")
		if !ok || newsletter.ValidateID(nl) != nil {
			return Target{}, false
		}
		id, ok := a.verify("unsubscribe", tag, nl)
		return Target{Kind: KindUnsubscribe, SubscriberID: id, Newsletter: nl}, ok
	}
	return Target{}, false
}

// tag is the tag of subscriber id (and newsletter nl) for purpose.
func (a *Addresses) tag(purpose string, id int64, nl string) string {
	b := binary.AppendUvarint(nil, uint64(id))
	return tagEncoding.EncodeToString(append(b, mac(a.keys[0], purpose, b, nl)...))
}

// verify returns the subscriber id of a tag made under any key.
func (a *Addresses) verify(purpose, tag, nl string) (int64, bool) {
	raw, err := tagEncoding.DecodeString(tag)
	if err != nil || len(raw) <= tagMACBytes || tagEncoding.EncodeToString(raw) != tag {
		return 0, false
	}
	b, given := raw[:len(raw)-tagMACBytes], raw[len(raw)-tagMACBytes:]
	id, n := binary.Uvarint(b)
	if n != len(b) || id == 0 || id > 1<<62 {
		return 0, false
	}
	for _, key := range a.keys {
		if hmac.Equal(mac(key, purpose, b, nl), given) {
			return int64(id), true
		}
	}
	return 0, false
}

func mac(key []byte, purpose string, id []byte, nl string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("verp " + purpose + "\x00"))
	m.Write(id)
	m.Write([]byte{0})
	m.Write([]byte(nl))
	return m.Sum(nil)[:tagMACBytes]
}
