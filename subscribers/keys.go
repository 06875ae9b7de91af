package subscribers

import (
	"crypto/sha256"
	"encoding/hex"
	"newsletter"
	"strconv"
)

// Every Redis key this package uses is named here, so the layout can be read
// in one place:
//
//	nl:newsletters                       hash   newsletter id -> JSON
//	nl:subscriber:next                   string last subscriber id handed out
//	nl:subscriber:index                  hash   AddressKey -> subscriber id
//	nl:subscriber:{id}                   hash   e (email), n (name), c (created_at), s:{newsletter} (subscription), w:{newsletter} (welcomed)
//	nl:subscriber:{id}:consent           list   consent records, JSON, oldest first
//	nl:subscriber:{id}:tokens            set    hashes of the subscriber's confirmation tokens
//	nl:audience:{newsletter}:{status}    bitmap bit {subscriber id} set for each subscriber in that status
//	nl:confirm:{sha256 hex}              hash   a confirmation token's record
//	nl:confirm:outbox                    list   confirmation emails for the relay: "{id}\n{newsletters}\n{JSON: address, sealed token, request id}"; "" once erased
//	nl:confirm:outbox:relay              string the lease of the relay at work
//	nl:confirm:outbox:dead               list   outbox entries the relay could not read
//	nl:suppressed                        hash   AddressKey -> suppression record, JSON
//	nl:suppressions                      zset   AddressKey scored by suppression time, unix ms, for paging
//	nl:throttle:confirm:addr:{hash}      string times of the confirmation emails to one address in the last 10 minutes and 24 hours (throttle.Windows)
//	nl:throttle:confirm:site:all         zset   confirmation emails to anyone, in the site-wide window
//
// {hash} is the hex SHA-256 of the AddressKey: the throttle keys name no
// address, and they expire with their window, so Erase need not find them.
const (
	keyNewsletters     = "nl:newsletters"
	keySubscriberNext  = "nl:subscriber:next"
	keySubscriberIndex = "nl:subscriber:index"
	keySuppressed      = "nl:suppressed"
	keySuppressions    = "nl:suppressions"
)

// Prefixes of the confirmation limits (the throttle windows append the
// key): the address's windows, kept together in one record per address,
// and the site's, with the key of its one window.
const (
	prefixConfirmAddress = "nl:throttle:confirm:addr:"
	prefixConfirmSite    = "nl:throttle:confirm:site:"
	keyConfirmSite       = "all"
)

// throttleAddressKey returns the key under which the per-address
// confirmation limits count addr: the hex SHA-256 of its AddressKey.
func throttleAddressKey(addr string) string {
	sum := sha256.Sum256([]byte(AddressKey(addr)))
	return hex.EncodeToString(sum[:])
}

// Prefixes of the per-subscriber, audience and confirmation token keys,
// for the scripts that build keys themselves (signup, import).
const (
	prefixSubscriberKey = "nl:subscriber:" // + id
	prefixAudienceKey   = "nl:audience:"   // + newsletter:status
	prefixConfirmToken  = "nl:confirm:"    // + token hash
)

func keySubscriber(id int64) string {
	return prefixSubscriberKey + strconv.FormatInt(id, 10)
}

func keyConsent(id int64) string { return keySubscriber(id) + ":consent" }

func keyTokens(id int64) string { return keySubscriber(id) + ":tokens" }

// KeyAudience names the bitmap of one newsletter's subscribers in one
// status: bit {subscriber id} is set for each (see AppendIDs).
func KeyAudience(newsletter string, s newsletter.Status) string {
	return prefixAudienceKey + newsletter + ":" + string(s)
}

func keyConfirmToken(hashHex string) string { return prefixConfirmToken + hashHex }

// Fields of the subscriber hash. They are one letter each: a hash per
// subscriber repeats them a million times.
const (
	fieldEmail         = "e"
	fieldName          = "n"
	fieldCreatedAt     = "c"
	prefixSubscription = "s:" // + newsletter: "status|subscribed_at|confirmed_at|unsubscribed_at"
	prefixWelcomed     = "w:" // + newsletter: 1 once welcomed
)

func fieldSubscription(newsletter string) string { return prefixSubscription + newsletter }

func fieldWelcomed(newsletter string) string { return prefixWelcomed + newsletter }

// AudienceKey returns the key of newsletter nl's audience in status st
// (KeyAudience), for a digest to copy.
func (s *Store) AudienceKey(nl string, st newsletter.Status) string { return KeyAudience(nl, st) }
