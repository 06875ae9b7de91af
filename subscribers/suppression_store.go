package subscribers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// maxSuppressionReason caps the reason a suppression keeps, in bytes.
const maxSuppressionReason = 500

// Suppress adds addr to the suppression list, or updates its entry: a
// suppression is a record of why no email goes to the address, so the latest
// reason, source and time replace earlier ones. The reason is kept to one
// line of at most 500 bytes. Addresses are matched case-insensitively.
func (s *Store) Suppress(ctx context.Context, addr, reason, source string, at time.Time) error {
	key := AddressKey(strings.TrimSpace(addr))
	if key == "" {
		return errors.New("subscribers: suppress: empty address")
	}
	rec := Suppression{Email: strings.TrimSpace(addr), Reason: cleanReason(reason), Source: source, At: at.UTC()}
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, keySuppressed, key, raw)
		p.ZAdd(ctx, keySuppressions, redis.Z{Score: float64(at.UnixMilli()), Member: key})
		return nil
	})
	return err
}

// Unsuppress removes addr from the suppression list and reports whether it
// was on it.
func (s *Store) Unsuppress(ctx context.Context, addr string) (bool, error) {
	key := AddressKey(strings.TrimSpace(addr))
	var del *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		del = p.HDel(ctx, keySuppressed, key)
		p.ZRem(ctx, keySuppressions, key)
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
			cmds[i] = p.HExists(ctx, keySuppressed, AddressKey(strings.TrimSpace(addr)))
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
// and the total.
func (s *Store) Suppressions(ctx context.Context, offset, limit int) ([]Suppression, int64, error) {
	keys, total, err := s.suppressionPage(ctx, offset, limit)
	if err != nil {
		return nil, 0, err
	} else if len(keys) == 0 {
		return []Suppression{}, total, nil
	}
	vals, err := s.rdb.HMGet(ctx, keySuppressed, keys...).Result()
	if err != nil {
		return nil, 0, err
	}
	list := make([]Suppression, 0, len(vals))
	for i, v := range vals {
		raw, ok := v.(string)
		if !ok { // lifted between the two reads
			continue
		}
		var rec Suppression
		if err := json.Unmarshal([]byte(raw), &rec); err != nil {
			return nil, 0, fmt.Errorf("suppression record of %s: %w", keys[i], err)
		}
		list = append(list, rec)
	}
	return list, total, nil
}

// suppressionPage returns the address keys of one page of the suppression
// list, newest first, and the length of the list.
func (s *Store) suppressionPage(ctx context.Context, offset, limit int) ([]string, int64, error) {
	offset = max(offset, 0)
	var page *redis.StringSliceCmd
	var total *redis.IntCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		if limit > 0 {
			page = p.ZRevRange(ctx, keySuppressions, int64(offset), int64(offset+limit-1))
		}
		total = p.ZCard(ctx, keySuppressions)
		return nil
	})
	if err != nil || page == nil {
		return nil, total.Val(), err
	}
	return page.Val(), total.Val(), nil
}

// cleanReason keeps a suppression's reason to one line of printable text
// of at most maxSuppressionReason bytes.
func cleanReason(reason string) string { return oneLineText(reason, maxSuppressionReason) }
