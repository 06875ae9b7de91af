package subscribers

import (
	"sort"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"newsletter"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// maxSuppressionReason caps the reason a suppression keeps, in bytes.
const maxSuppressionReason = 500

// Suppress adds addr to the suppression list, or updates its entry: a
// suppression is a record of why no email goes to the address, so the latest
// reason, source and time replace earlier ones. The reason is kept to one
// line of at most 500 bytes. Addresses are matched by mailbox (MailboxKey):
// suppressing victim@ suppresses victim+news@ too.
func (s *Store) Suppress(ctx context.Context, addr, reason, source string, at time.Time) error {
	key := MailboxKey(addr)
	if key == "" {
		return errors.New("subscribers: suppress: empty address")
	}
	rec := Suppression{Email: strings.TrimSpace(addr), Reason: cleanReason(reason), Source: source, At: at.UTC()}
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	part := PartitionOf(addr)
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, keySuppressed(part), key, raw)
		p.ZAdd(ctx, keySuppressions(part), redis.Z{Score: float64(at.UnixMilli()), Member: key})
		return nil
	})
	return err
}

// Unsuppress removes addr from the suppression list and reports whether it
// was on it.
func (s *Store) Unsuppress(ctx context.Context, addr string) (bool, error) {
	key, part := MailboxKey(addr), PartitionOf(addr)
	var del *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		del = p.HDel(ctx, keySuppressed(part), key)
		p.ZRem(ctx, keySuppressions(part), key)
		return nil
	})
	if err != nil {
		return false, err
	}
	return del.Val() == 1, nil
}

// Suppressed reports for each address whether it is suppressed, in one
// round trip.
func (s *Store) Suppressed(ctx context.Context, addrs []string) ([]bool, error) {
	out := make([]bool, len(addrs))
	if len(addrs) == 0 {
		return out, nil
	}
	cmds := make([]*redis.BoolCmd, len(addrs))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, addr := range addrs {
			addr = strings.TrimSpace(addr)
			cmds[i] = p.HExists(ctx, keySuppressed(PartitionOf(addr)), MailboxKey(addr))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, cmd := range cmds {
		out[i] = cmd.Val()
	}
	return out, nil
}

// Suppressions returns up to limit suppressions from offset, newest first,
// and the total. Each partition keeps its own, so a page is the newest of
// the first offset+limit of every partition, merged: an editor's page, not
// a hot path.
func (s *Store) Suppressions(ctx context.Context, offset, limit int) ([]Suppression, int64, error) {
	offset = max(offset, 0)
	pages := make([]*redis.ZSliceCmd, newsletter.Partitions)
	counts := make([]*redis.IntCmd, newsletter.Partitions)
	_, err := s.rdb.Pipelined(ctx, func(pl redis.Pipeliner) error {
		for _, p := range newsletter.AllPartitions() {
			if limit > 0 {
				pages[p] = pl.ZRevRangeWithScores(ctx, keySuppressions(p), 0, int64(offset+limit-1))
			}
			counts[p] = pl.ZCard(ctx, keySuppressions(p))
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	var total int64
	for _, c := range counts {
		total += c.Val()
	}
	if limit <= 0 {
		return []Suppression{}, total, nil
	}
	page := newestSuppressions(pages, offset, limit)
	list, err := s.loadSuppressions(ctx, page)
	return list, total, err
}

// suppressionRef names one suppression: its partition and AddressKey.
type suppressionRef struct {
	p   newsletter.Partition
	key string
	at  float64
}

// newestSuppressions merges the partitions' newest-first pages and returns
// the refs from offset, at most limit.
func newestSuppressions(pages []*redis.ZSliceCmd, offset, limit int) []suppressionRef {
	var all []suppressionRef
	for p, cmd := range pages {
		for _, z := range cmd.Val() {
			all = append(all, suppressionRef{p: newsletter.Partition(p), key: z.Member.(string), at: z.Score})
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].at != all[j].at {
			return all[i].at > all[j].at
		}
		return all[i].key < all[j].key
	})
	if offset >= len(all) {
		return nil
	}
	return all[offset:min(offset+limit, len(all))]
}

// loadSuppressions reads the records refs name, in order, skipping those
// lifted meanwhile.
func (s *Store) loadSuppressions(ctx context.Context, refs []suppressionRef) ([]Suppression, error) {
	cmds := make([]*redis.StringCmd, len(refs))
	_, err := s.rdb.Pipelined(ctx, func(pl redis.Pipeliner) error {
		for i, r := range refs {
			cmds[i] = pl.HGet(ctx, keySuppressed(r.p), r.key)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	list := make([]Suppression, 0, len(refs))
	for i, cmd := range cmds {
		raw, err := cmd.Bytes()
		if err != nil { // lifted between the two reads
			continue
		}
		var rec Suppression
		if err := json.Unmarshal(raw, &rec); err != nil {
			return nil, fmt.Errorf("suppression record of %s: %w", refs[i].key, err)
		}
		list = append(list, rec)
	}
	return list, nil
}

// cleanReason keeps a suppression's reason to one line of printable text
// of at most maxSuppressionReason bytes.
func cleanReason(reason string) string { return oneLineText(reason, maxSuppressionReason) }
