package articles_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/articles"
	"newsletter/internal/redistest"
)

// TestMemoryPerArticle stores 10,000 articles of typical size, each in two
// newsletters, and logs what each costs the Redis server. It needs a real
// server: the embedded one does not account memory.
func TestMemoryPerArticle(t *testing.T) {
	if os.Getenv(redistest.URLVar) == "" || testing.Short() {
		t.Skip("needs a real Redis (" + redistest.URLVar + ") and not -short")
	}
	const n, batchSize = 10000, 500
	s, rdb := mustStore(t)
	ctx := context.Background()
	before := mustUsedMemory(t, rdb)
	for start := 0; start < n; start += batchSize {
		batch := make([]articles.Article, 0, batchSize)
		for i := start; i < start+batchSize; i++ {
			batch = append(batch, typicalArticle(i))
		}
		mustUpsert(t, s, batch, "daily", "weekly")
	}
	perArticle := float64(mustUsedMemory(t, rdb)-before) / n

	one, err := rdb.MemoryUsage(ctx, mustKeys(t, rdb)[0]).Result()
	if err != nil {
		t.Fatalf("MEMORY USAGE: %v", err)
	}
	zset, err := rdb.MemoryUsage(ctx, "nl:{nl}:articles:daily").Result()
	if err != nil {
		t.Fatalf("MEMORY USAGE: %v", err)
	}
	t.Logf("%d articles: %.0f bytes each (used_memory); one article key: %d bytes; "+
		"one sorted-set entry: %.0f bytes", n, perArticle, one, float64(zset)/n)
	if perArticle > 1500 {
		t.Fatalf("%.0f bytes per article, want well under 1500 for a ~450-byte article", perArticle)
	}
	if got := mustSelectURLs(t, s, "weekly", t0, t0.Add(time.Duration(n)*time.Minute), 25); len(got) != 25 {
		t.Fatalf("Select = %d articles, want 25", len(got))
	}
}

// typicalArticle returns article i of a news site: some 450 bytes of text.
func typicalArticle(i int) articles.Article {
	return articles.Article{
		URL:         fmt.Sprintf("https://news.example.org/2025/03/14/science/the-mathematics-of-pi-day-explained-%d", i),
		Title:       fmt.Sprintf("The mathematics of Pi Day, explained for everyone, part %d", i),
		Summary:     strings.Repeat("Why a number that never ends keeps on fascinating us. ", 5),
		PublishedAt: t0.Add(time.Duration(i) * time.Minute),
		Author:      "Ann Example",
		Section:     "Science",
		ImageURL:    fmt.Sprintf("https://cdn.example.org/images/2025/03/pi-%d.jpg", i),
	}
}

var usedMemoryLine = regexp.MustCompile(`(?m)^used_memory:(\d+)\r?$`)

func mustUsedMemory(tb testing.TB, rdb *redis.Client) int64 {
	tb.Helper()
	info, err := rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		tb.Fatalf("INFO memory: %v", err)
	}
	m := usedMemoryLine.FindStringSubmatch(info)
	if m == nil {
		tb.Fatalf("INFO memory has no used_memory line")
	}
	v, _ := strconv.ParseInt(m[1], 10, 64)
	return v
}
