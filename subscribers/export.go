package subscribers

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"newsletter"
	"time"

	"github.com/redis/go-redis/v9"
)

// ExportFormat is the shape of an export.
type ExportFormat string

// The export formats: CSV with one row per subscription, or JSON Lines with
// one subscriber, consent records included, per line.
const (
	ExportCSV  ExportFormat = "csv"
	ExportJSON ExportFormat = "json"
)

// exportChunk is how many subscribers are loaded in one pipeline.
const exportChunk = 500

// Export writes every subscriber, or those with a subscription to
// newsletter nl when it is not empty, to w. Progress, when set, is called
// with the number of subscribers looked at so far and the total.
func (s *Service) Export(ctx context.Context, w io.Writer, nl string, f ExportFormat, progress func(done, total int64)) error {
	lasts, total, err := s.Store.lastNs(ctx)
	if err != nil {
		return fmt.Errorf("subscribers: export: %w", err)
	}
	out, done := newExportWriter(w, f), int64(0)
	for p, last := range lasts {
		for from := int64(1); from <= last; from += exportChunk {
			to := min(from+exportChunk-1, last)
			subs, err := s.Store.subscribersRange(ctx, newsletter.Partition(p), from, to)
			if err != nil {
				return fmt.Errorf("subscribers: export: %w", err)
			}
			for _, sub := range subs {
				if err := out.write(sub, nl); err != nil {
					return err
				}
			}
			if done += to - from + 1; progress != nil {
				progress(done, total)
			}
		}
	}
	return out.flush()
}

// lastNs returns, per partition, the last n handed out (ids are
// n*Partitions+p), and their sum.
func (s *Store) lastNs(ctx context.Context) ([]int64, int64, error) {
	cmds := make([]*redis.StringCmd, newsletter.Partitions)
	_, err := s.rdb.Pipelined(ctx, func(pl redis.Pipeliner) error {
		for _, p := range newsletter.AllPartitions() {
			cmds[p] = pl.Get(ctx, keyNext(p))
		}
		return nil
	})
	if err != nil && err != redis.Nil {
		return nil, 0, err
	}
	lasts, total := make([]int64, len(cmds)), int64(0)
	for p, cmd := range cmds {
		lasts[p], _ = cmd.Int64()
		total += lasts[p]
	}
	return lasts, total, nil
}

// subscribersRange loads the subscribers of partition part, the from-th
// to the to-th, that exist.
func (s *Store) subscribersRange(ctx context.Context, part newsletter.Partition, from, to int64) ([]*Subscriber, error) {
	hashes := make([]*redis.MapStringStringCmd, 0, to-from+1)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for n := from; n <= to; n++ {
			hashes = append(hashes, p.HGetAll(ctx, keySubscriber(newsletter.SubscriberID(part, n))))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []*Subscriber
	var found []map[string]string
	for i, h := range hashes {
		if len(h.Val()) == 0 {
			continue
		}
		out = append(out, decodeSubscriber(newsletter.SubscriberID(part, from+int64(i)), h.Val()))
		found = append(found, h.Val())
	}
	return out, s.withConsents(ctx, part, out, found)
}

// exportWriter writes subscribers in one format.
type exportWriter struct {
	format ExportFormat
	csv    *csv.Writer
	json   *json.Encoder
	header bool
}

func newExportWriter(w io.Writer, f ExportFormat) *exportWriter {
	if f == ExportJSON {
		return &exportWriter{format: f, json: json.NewEncoder(w)}
	}
	return &exportWriter{format: ExportCSV, csv: csv.NewWriter(w)}
}

var exportColumns = []string{"email", "name", "newsletter", "status", "subscribed_at", "confirmed_at", "unsubscribed_at"}

func (e *exportWriter) write(sub *Subscriber, nl string) error {
	if nl != "" && !hasSubscription(sub, nl) {
		return nil
	}
	if e.format == ExportJSON {
		return e.json.Encode(sub)
	}
	if !e.header {
		e.header = true
		if err := e.csv.Write(exportColumns); err != nil {
			return err
		}
	}
	for _, s := range sub.Subscriptions {
		if nl != "" && s.Newsletter != nl {
			continue
		}
		row := []string{sub.Email, sub.Name, s.Newsletter, string(s.Status), stamp(&s.SubscribedAt), stamp(s.ConfirmedAt), stamp(s.UnsubscribedAt)}
		if err := e.csv.Write(row); err != nil {
			return err
		}
	}
	return nil
}

func (e *exportWriter) flush() error {
	if e.csv == nil {
		return nil
	}
	if !e.header {
		e.csv.Write(exportColumns)
	}
	e.csv.Flush()
	return e.csv.Error()
}

func hasSubscription(sub *Subscriber, nl string) bool {
	for _, s := range sub.Subscriptions {
		if s.Newsletter == nl {
			return true
		}
	}
	return false
}

func stamp(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
