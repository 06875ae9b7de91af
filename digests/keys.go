package digests

// Every Redis key this package uses is named here:
//
//	nl:digest:{id}                     hash   meta (JSON), status, total, failed, skipped, finished_at, last_error, last_error_at (sent: BITCOUNT of done - failed - skipped)
//	nl:digest:{id}:audience            bitmap subscriber ids frozen at creation (a copy of the confirmed audience)
//	nl:digest:{id}:done                bitmap bit per subscriber id: has an outcome (sent, failed, skipped)
//	nl:digest:{id}:body                string the shared body with placeholders (JSON: subject, html, text)
//	nl:digests:{newsletter}            zset   digest ids by creation time (ms)
//	nl:cutoff:{newsletter}             string unix ms up to which articles went out
//	nl:idempotency:{newsletter}:{key}  string digest id, for 24 h
//	nl:slot:{newsletter}:{unix}        string set once a scheduled slot is handled
const idempotencyTTLHours = 24

func keyDigest(id string) string { return "nl:digest:" + id }

func keyAudience(id string) string { return keyDigest(id) + ":audience" }

func keyDone(id string) string { return keyDigest(id) + ":done" }

func keyBody(id string) string { return keyDigest(id) + ":body" }

func keyDigests(nl string) string { return "nl:digests:" + nl }

func keyCutoff(nl string) string { return "nl:cutoff:" + nl }

func keyIdempotency(nl, key string) string { return "nl:idempotency:" + nl + ":" + key }

func keySlot(nl string, unix int64) string {
	return "nl:slot:" + nl + ":" + itoa(unix)
}
