package subscribers

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/crc32"
	"strconv"

	"newsletter"
)

// Every Redis key this package uses is named here, so the layout can be read
// in one place. A reader's keys carry the tag of the reader's partition
// ({rNN}: newsletter.Partition), chosen from the address; the few global
// keys carry newsletter.GlobalTag ({nl}). Every script and transaction
// touches the keys of one partition, or global keys only.
//
//	nl:{nl}:newsletters                    hash   newsletter id -> JSON
//	nl:{nl}:throttle:confirm:site:all      zset   confirmation emails to anyone, in the site-wide window
//	nl:{rNN}:next                          string the last n handed out in the partition (ids are n*64+NN)
//	nl:{rNN}:index                         hash   AddressKey -> subscriber id
//	nl:{rNN}:sub:{id}                      hash   the subscriber: fields below
//	nl:{rNN}:dict                          hash   the partition's dictionary of consent values: v:{value} (h:{sha1} past 40 bytes) -> n, i:{n} -> value, # -> last n
//	nl:{rNN}:audience:{newsletter}:{status} bitmap bit n set for each subscriber n*64+NN in that status
//	nl:{rNN}:outbox                        list   confirmation emails for the relay: "{id}\n{newsletters}\n{JSON: address, unix time of the signup, request id}"; "" once erased
//	nl:{rNN}:outbox:dead                   list   outbox entries the relay could not read
//	nl:{rNN}:outbox:relay                  string the lease of the relay at work on the partition's outbox
//	nl:{rNN}:suppressed                    hash   MailboxKey -> suppression record, JSON
//	nl:{rNN}:suppressions                  zset   MailboxKey scored by suppression time, unix ms, for paging
//	nl:{rNN}:throttle:confirm:addr:{hash}  string times of the confirmation emails to one address in the last 10 minutes and 24 hours (throttle.Windows)
//
// The subscriber's hash holds e (email), n (name), c (created_at), pn (the
// name given at a signup not confirmed yet), tn (the number of its last
// confirmation token), tv (the number up to which its tokens are void), s:{newsletter} (subscription), w:{newsletter}
// (welcomed) and k1, k2, ... (consent records, consent_store.go). Its
// fields and values stay short, so that Redis keeps it in its compact
// encoding: a confirmed reader costs under 400 bytes in all.
// Confirmation tokens are not stored at all (token.go).
//
// {hash} is the hex SHA-256 of the MailboxKey (one record per mailbox,
// however its address is written): the throttle keys name no
// address, and they expire with their window, so Erase need not find them.

// PartitionOf returns the partition that holds the data of address addr: a
// hash of its MailboxKey, so every spelling of one mailbox (victim+1@,
// v.ictim@gmail.com) lands in one partition, where its confirmation limits
// and suppression are one record.
func PartitionOf(addr string) newsletter.Partition { return partitionOfMailbox(MailboxKey(addr)) }

// partitionOfMailbox is PartitionOf for an address's MailboxKey.
func partitionOfMailbox(mailbox string) newsletter.Partition {
	return newsletter.Partition(crc32.ChecksumIEEE([]byte(mailbox)) % newsletter.Partitions)
}

// Global keys.
const (
	keyNewsletters = "nl:" + newsletter.GlobalTag + ":newsletters"
	// prefixGlobal starts the keys of the site-wide confirmation limit
	// (the window appends keyConfirmSite).
	prefixGlobal   = "nl:" + newsletter.GlobalTag + ":"
	keyConfirmSite = "throttle:confirm:site:all"
)

func partitionKey(p newsletter.Partition, rest string) string { return "nl:" + p.Tag() + ":" + rest }

func keyNext(p newsletter.Partition) string { return partitionKey(p, "next") }

func keyIndex(p newsletter.Partition) string { return partitionKey(p, "index") }

func keySubscriber(id int64) string {
	return partitionKey(newsletter.PartitionOf(id), "sub:"+strconv.FormatInt(id, 10))
}

func keyDict(p newsletter.Partition) string { return partitionKey(p, "dict") }

// KeyAudience names the bitmap of partition p's subscribers of one
// newsletter in one status: bit n is set for subscriber n*64+p (see
// newsletter.BitOf).
func KeyAudience(nl string, s newsletter.Status, p newsletter.Partition) string {
	return "nl:" + p.Tag() + ":audience:" + nl + ":" + string(s) // partitionKey, in one concatenation
}

// audienceKeys returns the keys of newsletter nl's audiences in partition
// p, by status, for transition.
func audienceKeys(nl string, p newsletter.Partition) []string {
	keys := make([]string, len(newsletter.Statuses))
	for i, st := range newsletter.Statuses {
		keys[i] = KeyAudience(nl, st, p)
	}
	return keys
}

func keyOutbox(p newsletter.Partition) string { return partitionKey(p, "outbox") }

func keyOutboxDead(p newsletter.Partition) string { return partitionKey(p, "outbox:dead") }

func keyOutboxRelay(p newsletter.Partition) string { return partitionKey(p, "outbox:relay") }

func keySuppressed(p newsletter.Partition) string { return partitionKey(p, "suppressed") }

func keySuppressions(p newsletter.Partition) string { return partitionKey(p, "suppressions") }

// The per-address confirmation limits keep one record per address, in the
// address's partition: the windows' prefix is "nl:" and the key
// confirmAddressKey.
const prefixConfirmAddress = "nl:"

// confirmAddressKey returns the key, after prefixConfirmAddress, under which
// the per-address confirmation limits count addr.
func confirmAddressKey(addr string) string {
	mailbox := MailboxKey(addr)
	return confirmMailboxKey(mailbox, partitionOfMailbox(mailbox))
}

// confirmMailboxKey is confirmAddressKey for an address's MailboxKey.
func confirmMailboxKey(mailbox string, p newsletter.Partition) string {
	sum := sha256.Sum256([]byte(mailbox))
	return p.Tag() + ":throttle:confirm:addr:" + hex.EncodeToString(sum[:])
}

// Fields of the subscriber hash. They are one letter each: a hash per
// subscriber repeats them a million times.
const (
	fieldEmail         = "e"
	fieldName          = "n"
	fieldCreatedAt     = "c"
	fieldPendingName   = "pn"
	fieldTokenSeq      = "tn" // the number of the subscriber's last confirmation token
	fieldTokensVoid    = "tv"
	prefixSubscription = "s:" // + newsletter: "status|subscribed_at|confirmed_at|unsubscribed_at[|link_sent_at]"
	prefixWelcomed     = "w:" // + newsletter: 1 once welcomed
)

func fieldSubscription(newsletter string) string { return prefixSubscription + newsletter }

func fieldWelcomed(newsletter string) string { return prefixWelcomed + newsletter }

// AudienceKey returns the key of newsletter nl's audience in status st in
// partition p (KeyAudience), for a digest to copy.
func (s *Store) AudienceKey(nl string, st newsletter.Status, p newsletter.Partition) string {
	return KeyAudience(nl, st, p)
}
