package subscribers

import "strconv"

// Every Redis key this package uses is named here, so the layout can be read
// in one place:
//
//	nl:newsletters                       hash   newsletter id -> JSON
//	nl:subscriber:next                   string last subscriber id handed out
//	nl:subscriber:index                  hash   AddressKey -> subscriber id
//	nl:subscriber:{id}                   hash   email, name, created_at, sub:{newsletter}, welcomed:{newsletter}
//	nl:subscriber:{id}:consent           list   consent records, JSON, oldest first
//	nl:subscriber:{id}:tokens            set    hashes of the subscriber's confirmation tokens
//	nl:audience:{newsletter}:{status}    zset   subscriber ids scored by id, one per status
//	nl:confirm:{sha256 hex}              hash   a confirmation token's record
//	nl:suppressed                        hash   AddressKey -> suppression record, JSON
//	nl:suppressions                      zset   AddressKey scored by suppression time, unix ms, for paging
const (
	keyNewsletters     = "nl:newsletters"
	keySubscriberNext  = "nl:subscriber:next"
	keySubscriberIndex = "nl:subscriber:index"
	keySuppressed      = "nl:suppressed"
	keySuppressions    = "nl:suppressions"
)

func keySubscriber(id int64) string {
	return "nl:subscriber:" + strconv.FormatInt(id, 10)
}

func keyConsent(id int64) string { return keySubscriber(id) + ":consent" }

func keyTokens(id int64) string { return keySubscriber(id) + ":tokens" }

// KeyAudience names the sorted set of one newsletter's subscribers in one
// status, scored by subscriber id so it can be walked in pages in a stable
// order.
func KeyAudience(newsletter string, s Status) string {
	return "nl:audience:" + newsletter + ":" + string(s)
}

func keyConfirmToken(hashHex string) string { return "nl:confirm:" + hashHex }

// Fields of the subscriber hash.
const (
	fieldEmail     = "email"
	fieldName      = "name"
	fieldCreatedAt = "created_at"
)

func fieldSubscription(newsletter string) string { return "sub:" + newsletter }

func fieldWelcomed(newsletter string) string { return "welcomed:" + newsletter }
