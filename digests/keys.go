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
//	nl:{nl}:idempotency:{newsletter}:{key}   string digest id, for 24 h
//	nl:{nl}:slot:{newsletter}:{unix}         string set once a scheduled slot is handled
//	nl:{rNN}:digest:{id}:audience            bitmap the partition's confirmed audience, frozen at creation
//	nl:{rNN}:digest:{id}:done                bitmap bit per recipient of the partition: has an outcome (sent, failed, skipped)
//	nl:{rNN}:digest:{id}:counts              hash   the partition's total, failed and skipped (sent: BITCOUNT of done - failed - skipped)
//
// The partitions' keys expire with the digest's retention; the global ones
// stay (the counts are copied into the digest's hash when it finishes).
const idempotencyTTLHours = 24

const global = "nl:" + newsletter.GlobalTag + ":"

func keyDigest(id string) string { return global + "digest:" + id }

func keyBody(id string) string { return keyDigest(id) + ":body" }

func keyDigests(nl string) string { return global + "digests:" + nl }

func keyCutoff(nl string) string { return global + "cutoff:" + nl }

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
