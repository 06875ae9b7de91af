package articles

import (
	"crypto/sha256"
	"encoding/hex"

	"newsletter"
)

// Every Redis key this package uses is named here, so the layout can be read
// in one place ({h} is urlHash of the article's or feed's URL):
//
//	nl:{nl}:article:{h}              string  the article, compact JSON (see record)
//	nl:{nl}:articles:{newsletter}    zset    article hashes {h}, scored by
//	                                         published_at in Unix milliseconds
//	nl:{nl}:articles                 zset    every article's hash {h}, scored
//	                                         the same: the editors' list
//	nl:{nl}:articles-indexed         string  "1" once the articles stored
//	                                         before nl:{nl}:articles existed
//	                                         are in it (see IndexExisting)
//	nl:{nl}:articles-deleted         zset    hashes {h} of articles an editor
//	                                         deleted, scored by the time of
//	                                         deletion in Unix milliseconds, so
//	                                         that feeds do not bring them back;
//	                                         kept deletedMemory (90 days)
//	nl:{nl}:feed:{h}                 hash    etag, last_modified of the feed's
//	                                         last 200 answer; expires when the
//	                                         feed has not been polled for 30 days
//
// Articles are global state: every key carries newsletter.GlobalTag, so on
// a Redis Cluster they share one slot, and a write of articles with their
// sorted-set entries stays one transaction.
//
// An article's key holds its newsletter ids too, so an update or a delete
// knows which sorted sets to leave. Articles are written and deleted
// together with their sorted-set entries in one MULTI/EXEC, so the two
// never disagree.

const global = "nl:" + newsletter.GlobalTag + ":"

func keyArticle(h string) string { return global + "article:" + h }

func keyNewsletterArticles(nl string) string { return global + "articles:" + nl }

func keyArticleIndex() string { return global + "articles" }

func keyIndexed() string { return global + "articles-indexed" }

func keyDeleted() string { return global + "articles-deleted" }

func keyFeed(h string) string { return global + "feed:" + h }

// Fields of the feed hash.
const (
	fieldETag         = "etag"
	fieldLastModified = "last_modified"
)

// IDOf returns the id of the article at url: 32 lower-case hex digits.
func IDOf(url string) string { return urlHash(url) }

// ValidID reports whether id has the form of an article id, so that an id
// from a request is checked before it names a key.
func ValidID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// urlHash returns the hex form of the first 16 bytes of the SHA-256 of u:
// a short, fixed-length stand-in for a URL of up to 2 KiB in keys and
// sorted sets.
func urlHash(u string) string {
	sum := sha256.Sum256([]byte(u))
	return hex.EncodeToString(sum[:16])
}
