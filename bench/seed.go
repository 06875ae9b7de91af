package main

import (
	"bufio"
	"context"
	"encoding/json"
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
const (
	seedKeySubscriberNext  = "nl:subscriber:next"
	seedKeySubscriberIndex = "nl:subscriber:index"
	seedKeySubscriber      = "nl:subscriber:" // + id: hash
	seedConsentSuffix      = ":consent"       // nl:subscriber:{id}:consent: list of JSON
)

func subscriberEmail(id int) string { return "sub-" + strconv.Itoa(id) + "@bench.example" }

// seedSubscribers writes n subscribers, ids 1 to n, confirmed to newsletter
// nl, straight into Redis in pipelines, as the subscribe and confirm flow
// would have left them (without name, consent and token records):
//
//	nl:subscriber:{id}                    e (email), c (created_at), s:{nl} = "confirmed|ts|ts|0", w:{nl} = 1
//	nl:subscriber:index                   address -> id
//	nl:audience:{nl}:confirmed            bitmap, bit {id} set
//	nl:subscriber:next                    n
func seedSubscribers(ctx context.Context, rdb *redis.Client, nl string, n int, now time.Time) error {
	ts := strconv.FormatInt(now.Unix(), 10)
	status := string(newsletter.StatusConfirmed) + "|" + ts + "|" + ts + "|0"
	audience := subscribers.KeyAudience(nl, newsletter.StatusConfirmed)
	for start := 1; start <= n; start += seedChunk {
		stop := min(start+seedChunk-1, n)
		index := make([]any, 0, 2*(stop-start+1))
		pipe := rdb.Pipeline()
		for id := start; id <= stop; id++ {
			email := subscriberEmail(id)
			pipe.HSet(ctx, seedKeySubscriber+strconv.Itoa(id),
				"e", email, "c", ts, "s:"+nl, status, "w:"+nl, "1")
			index = append(index, subscribers.AddressKey(email), id)
			pipe.SetBit(ctx, audience, int64(id), 1)
		}
		pipe.HSet(ctx, seedKeySubscriberIndex, index...)
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("seed subscribers %d to %d: %w", start, stop, err)
		}
	}
	return rdb.Set(ctx, seedKeySubscriberNext, n, 0).Err()
}

// seedConsent gives subscribers 1 to n the two consent records that the
// signup and the confirmation leave, as subscribers.Store.AddConsent writes
// them, with a typical IP, browser and page.
func seedConsent(ctx context.Context, rdb *redis.Client, nl string, n int, now time.Time) error {
	records := make([]any, 0, 2)
	for _, action := range []string{subscribers.ActionSignup, subscribers.ActionConfirm} {
		raw, err := json.Marshal(subscribers.Consent{Action: action, Newsletters: []string{nl}, At: now,
			IP: "203.0.113.77", UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
			Source: "https://news.example/newsletters/daily"})
		if err != nil {
			return err
		}
		records = append(records, raw)
	}
	for start := 1; start <= n; start += seedChunk {
		stop := min(start+seedChunk-1, n)
		pipe := rdb.Pipeline()
		for id := start; id <= stop; id++ {
			pipe.RPush(ctx, seedKeySubscriber+strconv.Itoa(id)+seedConsentSuffix, records...)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("seed consent %d to %d: %w", start, stop, err)
		}
	}
	return nil
}

// seedImport writes n subscribers, ids 1 to n, confirmed to newsletter nl
// through subscribers.Service.Import, the public bulk API (a CSV with an
// email column, consent given elsewhere). It creates the newsletter first,
// as Import wants, and leaves one "import" consent record per subscriber.
func seedImport(ctx context.Context, rdb *redis.Client, nl string, n int, now time.Time) error {
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
