package digests

import "newsletter"

// Every Redis key this package uses is named here. A digest's metadata is
// global ({nl}); its per-recipient data is split by the readers' partitions
// ({rNN}), so a batch reads and records within one partition. A test
// digest's recipients (its test addresses, by position) are partition 0's.
//
//	nl:{nl}:digest:{id}                      hash   meta (JSON), status, total, finished_at, last_error, last_error_at
//	nl:{nl}:digest:{id}:body                 string the shared body with placeholders (JSON: subject, html, text)
//	nl:{nl}:digests:{newsletter}             zset   digest ids by creation time (ms)
//	nl:{nl}:cutoff:{newsletter}              string unix ms up to which articles went out
//	nl:{nl}:scheduled:{newsletter}           zset   scheduled digest ids by send_at (ms), until they start or are canceled
//	nl:{nl}:idempotency:{newsletter}:{key}   string digest id, for 24 h
//	nl:{nl}:slot:{newsletter}:{unix}         string set once a scheduled slot is handled
//	nl:{nl}:digest:{id}:clicks               hash   clicks counted per article id
//	nl:{nl}:digest:{id}:clickers             hll    visitors who clicked any of its links (daily salted hashes)
//	nl:{nl}:digest:{id}:clickers:{article}   hll    visitors who clicked that article's link
//	nl:{nl}:digest:{id}:scanners             hll    visitors found to be scanners, taken out of the unique counts
//	nl:{nl}:digest:{id}:opens                string opens counted (NEWSLETTER_TRACK_OPENS)
//	nl:{nl}:digest:{id}:openers              hll    visitors who opened it
//	nl:{nl}:digest:{id}:burst:{visitor}      hash   article id -> clicks of one visitor in its 5-second window; "@": its start (ms); for a minute
//	nl:{nl}:digest:{id}:scanner:{visitor}    string set until the end of the day once a visitor is a scanner
//	nl:{nl}:salt:{yyyy-mm-dd}                string the day's random salt of visitor hashes; gone at midnight UTC
//	nl:{rNN}:digest:{id}:audience            bitmap the partition's confirmed audience, frozen at creation
//	nl:{rNN}:digest:{id}:done                bitmap bit per recipient of the partition: has an outcome (sent, failed, skipped)
//	nl:{rNN}:digest:{id}:counts              hash   the partition's total, failed and skipped (sent: BITCOUNT of done - failed - skipped)
//
// The partitions' keys expire with the digest's retention; the global ones
// stay (the counts are copied into the digest's hash when it finishes),
// but for a visitor's burst window (a minute), its scanner mark and the
// salt (the day). A visitor is a salted hash of an IP address and user
// agent: the click and open aggregates name no reader, and once the salt
// is gone no hash can be tied to an address again.
const idempotencyTTLHours = 24

const global = "nl:" + newsletter.GlobalTag + ":"

func keyDigest(id string) string { return global + "digest:" + id }

func keyBody(id string) string { return keyDigest(id) + ":body" }

func keyDigests(nl string) string { return global + "digests:" + nl }

func keyCutoff(nl string) string { return global + "cutoff:" + nl }

func keyScheduled(nl string) string { return global + "scheduled:" + nl }

func keyIdempotency(nl, key string) string { return global + "idempotency:" + nl + ":" + key }

func keySlot(nl string, unix int64) string { return global + "slot:" + nl + ":" + itoa(unix) }

func partitionDigestKey(p newsletter.Partition, id, rest string) string {
	return "nl:" + p.Tag() + ":digest:" + id + ":" + rest
}

func keyAudience(p newsletter.Partition, id string) string {
	return partitionDigestKey(p, id, "audience")
}

func keyDone(p newsletter.Partition, id string) string { return partitionDigestKey(p, id, "done") }

func keyCounts(p newsletter.Partition, id string) string { return partitionDigestKey(p, id, "counts") }

func keyClicks(id string) string { return keyDigest(id) + ":clicks" }

func keyClickers(id string) string { return keyDigest(id) + ":clickers" }

func keyArticleClickers(id, article string) string { return keyClickers(id) + ":" + article }

func keyScanners(id string) string { return keyDigest(id) + ":scanners" }

func keyOpens(id string) string { return keyDigest(id) + ":opens" }

func keyOpeners(id string) string { return keyDigest(id) + ":openers" }

func keyBurst(id, visitor string) string { return keyDigest(id) + ":burst:" + visitor }

func keyScanner(id, visitor string) string { return keyDigest(id) + ":scanner:" + visitor }

func keySalt(day string) string { return global + "salt:" + day }
