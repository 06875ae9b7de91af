package digests

import "newsletter"

// Every Redis key this package uses is named here. A digest's metadata is
// global ({nl}); its per-recipient data is split by the readers' partitions
// ({rNN}), so a batch reads and records within one partition. A test
// digest's recipients (its test addresses, by position) are partition 0's.
//
//	nl:{nl}:digest:{id}                      hash   meta (JSON), status, total, finished_at, last_error, last_error_at, engagement (folded numbers, JSON)
//	                                                prev_cutoff (the cutoff before it), given_back (its articles went back),
//	                                                audience_pending (scheduled, audience not frozen yet), report counts
//	nl:{nl}:digest:{id}:body                 string the shared body with placeholders (JSON: subject, html, text)
//	nl:{nl}:digests:{newsletter}             zset   digest ids by creation time (ms)
//	nl:{nl}:cutoff:{newsletter}              string unix ms up to which articles went out
//	nl:{nl}:scheduled:{newsletter}           zset   scheduled digest ids by send_at (ms), until they start or are canceled
//	nl:{nl}:idempotency:{newsletter}:{key}   string digest id, for 24 h
//	nl:{nl}:slot:{newsletter}:{unix}         string set once a scheduled slot is handled
//	nl:{nl}:digest:{id}:clicks               hash   clicks counted per article id, until folded
//	nl:{nl}:digest:{id}:clickers             hll    visitors who clicked any of its links (salted hashes), until folded
//	nl:{nl}:digest:{id}:clickers:{article}   hll    visitors who clicked that article's link, until folded
//	nl:{nl}:digest:{id}:scanners             hll    visitors found to be scanners, taken out of the unique counts, until folded
//	nl:{nl}:digest:{id}:opens                string opens counted (NEWSLETTER_TRACK_OPENS), until folded
//	nl:{nl}:digest:{id}:openers              hll    visitors who opened it, until folded
//	nl:{nl}:digest:{id}:burst:{n}            hash   visitor -> its recent clicks ("article:ms:clicks,..."), in 2-second bucket n; for 6 s
//	nl:{nl}:digest:{id}:marks:{n}            set    visitors marked as scanners in 10-minute bucket n; for 20 minutes
//	nl:{nl}:folded:{newsletter}              string creation ms up to which the newsletter's digests are folded
//	nl:{nl}:salt:{yyyy-mm-dd}                string the day's random salt of visitor hashes; gone at midnight UTC
//	nl:{rNN}:digest:{id}:audience            bitmap the partition's confirmed audience, frozen at creation
//	nl:{rNN}:digest:{id}:done                bitmap bit per recipient of the partition: has an outcome (sent, failed, skipped)
//	nl:{rNN}:digest:{id}:counts              hash   the partition's total, failed and skipped (sent: BITCOUNT of done - failed - skipped)
//
// The partitions' keys expire with the digest's retention. The global
// ones stay (the counts are copied into the digest's hash when it
// finishes), but for the burst buckets (seconds), the scanner marks
// (minutes) and the salt (the day); once a digest finished more than its
// retention ago, its click and open numbers are folded into its hash
// (field "engagement") and the sketches and clicks hash deleted. A
// visitor is a salted hash of a digest id, an IP address and a user
// agent: the click and open aggregates name no reader, the same reader is
// a different visitor in each digest, and once the salt is gone no hash
// can be tied to an address again.
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

func keyBurst(id string, bucket int64) string { return keyDigest(id) + ":burst:" + itoa(bucket) }

func keyMarks(id string, bucket int64) string { return keyDigest(id) + ":marks:" + itoa(bucket) }

func keyFolded(nl string) string { return global + "folded:" + nl }

func keySalt(day string) string { return global + "salt:" + day }
