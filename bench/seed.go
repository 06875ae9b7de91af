package main

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter"
	"newsletter/subscribers"
)

// benchNewsletter is the id of the newsletter every phase uses.
const benchNewsletter = "bench"

// seedChunk is how many subscribers one pipeline writes.
const seedChunk = 1000

// The key names and fields below MIRROR subscribers/keys.go, which keeps
// them unexported; there is no public bulk import yet. Change them together.
func seedKeyNext(p newsletter.Partition) string  { return "nl:" + p.Tag() + ":next" }
func seedKeyIndex(p newsletter.Partition) string { return "nl:" + p.Tag() + ":index" }
func seedKeySubscriber(id int64) string {
	return "nl:" + newsletter.PartitionOf(id).Tag() + ":sub:" + strconv.FormatInt(id, 10)
}

func seedKeyDict(p newsletter.Partition) string { return "nl:" + p.Tag() + ":dict" }

// seedDictKey is the field under which a partition's dictionary finds
// value v: v itself, or its SHA-1 past 40 bytes.
func seedDictKey(v string) string {
	if len(v) > 40 {
		sum := sha1.Sum([]byte(v))
		return "h:" + hex.EncodeToString(sum[:])
	}
	return "v:" + v
}

// seedConsentSep separates the fields of a stored consent record
// (subscribers/consent_store.go).
const seedConsentSep = "\x1f"

func subscriberEmail(i int) string { return "sub-" + strconv.Itoa(i) + "@bench.example" }

// seedIDs returns the ids that the n subscribers subscriberEmail(1..n)
// get, in order: each address's partition hands out its next id.
func seedIDs(n int) []int64 {
	var next [newsletter.Partitions]int64
	ids := make([]int64, n)
	for i := range ids {
		p := subscribers.PartitionOf(subscriberEmail(i + 1))
		next[p]++
		ids[i] = newsletter.SubscriberID(p, next[p])
	}
	return ids
}

// seedSubscribers writes n subscribers, subscriberEmail(1..n), confirmed
// to newsletter nl, straight into Redis in pipelines, as the subscribe and
// confirm flow would have left them (without name, consent and token
// records), each in its address's partition:
//
//	nl:{rNN}:sub:{id}                    e (email), c (created_at), s:{nl} = "C|ts|ts" (confirmed, welcomed)
//	nl:{rNN}:index                       address -> id
//	nl:{rNN}:audience:{nl}:confirmed     bitmap, bit {id/64} set
//	nl:{rNN}:next                        the partition's last n
func seedSubscribers(ctx context.Context, rdb *redis.Client, nl string, n int, now time.Time) error {
	ts := strconv.FormatInt(now.Unix(), 10)
	status := "C|" + ts + "|" + ts
	ids := seedIDs(n)
	var last [newsletter.Partitions]int64
	for start := 0; start < n; start += seedChunk {
		stop := min(start+seedChunk, n)
		pipe := rdb.Pipeline()
		for i := start; i < stop; i++ {
			email, id := subscriberEmail(i+1), ids[i]
			p := newsletter.PartitionOf(id)
			pipe.HSet(ctx, seedKeySubscriber(id), "e", email, "c", ts, "s:"+nl, status)
			pipe.HSet(ctx, seedKeyIndex(p), subscribers.AddressKey(email), id)
			pipe.SetBit(ctx, subscribers.KeyAudience(nl, newsletter.StatusConfirmed, p), newsletter.BitOf(id), 1)
			last[p] = max(last[p], newsletter.BitOf(id))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("seed subscribers %d to %d: %w", start+1, stop, err)
		}
	}
	pipe := rdb.Pipeline()
	for p, n := range last {
		pipe.Set(ctx, seedKeyNext(newsletter.Partition(p)), n, 0)
	}
	_, err := pipe.Exec(ctx)
	return err
}

// seedConsent gives subscribers subscriberEmail(1..n) the two consent
// records that the signup and the confirmation leave, with a typical IP,
// browser and page, as subscribers/consent_store.go stores them: fields k1
// and k2 of the subscriber's hash, the browser, page and newsletter as
// numbers in the partition's dictionary.
func seedConsent(ctx context.Context, rdb *redis.Client, nl string, n int, now time.Time) error {
	const ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	const page = "https://news.example/newsletters/daily"
	pipe := rdb.Pipeline()
	for _, p := range newsletter.AllPartitions() {
		pipe.HSet(ctx, seedKeyDict(p), "#", 3, seedDictKey(ua), 1, "i:1", ua, seedDictKey(page), 2, "i:2", page, seedDictKey(nl), 3, "i:3", nl)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("seed consent dictionaries: %w", err)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	record := func(action string) string {
		return action + seedConsentSep + ts + seedConsentSep + "203.0.113.77" + seedConsentSep + "1" + seedConsentSep + "2" + seedConsentSep + seedConsentSep + "3"
	}
	signup, confirm := record("s"), record("c")
	ids := seedIDs(n)
	for start := 0; start < n; start += seedChunk {
		stop := min(start+seedChunk, n)
		pipe := rdb.Pipeline()
		for _, id := range ids[start:stop] {
			pipe.HSet(ctx, seedKeySubscriber(id), "k1", signup, "k2", confirm)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("seed consent %d to %d: %w", start, stop, err)
		}
	}
	return nil
}

// seedImport writes n subscribers, ids 1 to n, confirmed to newsletter nl
// (on any client, a cluster's included)
// through subscribers.Service.Import, the public bulk API (a CSV with an
// email column, consent given elsewhere). It creates the newsletter first,
// as Import wants, and leaves one "import" consent record per subscriber.
func seedImport(ctx context.Context, rdb redis.UniversalClient, nl string, n int, now time.Time) error {
	store := subscribers.NewStore(rdb)
	if _, err := store.PutNewsletter(ctx, &newsletter.Newsletter{ID: nl, Name: "Bench Daily",
		MaxArticles: newsletter.DefaultMaxArticles, CreatedAt: now, UpdatedAt: now}); err != nil {
		return err
	}
	svc := subscribers.NewService(store, nil, slog.New(slog.DiscardHandler))
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeCSV(pw, n)) }()
	defer pr.Close()
	res, err := svc.Import(ctx, pr, subscribers.ImportOptions{Newsletter: nl, Confirmed: true})
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if res.Imported != n {
		return fmt.Errorf("import: %d of %d rows imported, skipped %v", res.Imported, n, res.Skipped)
	}
	return nil
}

func writeCSV(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("email\n")
	for id := 1; id <= n; id++ {
		bw.WriteString(subscriberEmail(id))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
