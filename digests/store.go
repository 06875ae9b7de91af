package digests

import (
	"context"

	"encoding/json"
	"errors"
	"fmt"
	"newsletter"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Store keeps digests, their frozen audiences and their progress in Redis.
type Store struct {
	rdb redis.UniversalClient
	// Retention is how long a digest's per-recipient data (its audience
	// copy and outcome bits) is kept; its counts, articles and body stay.
	Retention time.Duration

	daySalt daySalt // the day's salt of visitor hashes, once read (clicks.go)
}

// DefaultRetention is how long a digest's per-recipient data is kept
// unless the Store says otherwise.
const DefaultRetention = 720 * time.Hour

// NewStore returns a Store on the given Redis client.
func NewStore(rdb redis.UniversalClient) *Store { return &Store{rdb: rdb, Retention: DefaultRetention} }

// createPartScript freezes one partition's part of a new digest's audience
// and starts its progress: the audience copy (from the newsletter's
// confirmed audience, unless it is a test digest, whose ARGV[2] recipients
// are partition 0's), the counts and an empty done bitmap, all expiring
// after ARGV[1] ms. It returns the partition's number of recipients, and
// stores nothing for a partition with none.
//
// KEYS: audience copy, confirmed audience, counts, done bitmap.
// ARGV: retention ms, test recipient count or -1.
var createPartScript = redis.NewScript(`
local total = tonumber(ARGV[2])
if total < 0 then
  total = redis.call('BITCOUNT', KEYS[2])
  if total == 0 then return 0 end
  redis.call('BITOP', 'OR', KEYS[1], KEYS[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
redis.call('HSET', KEYS[3], 'total', total, 'failed', 0, 'skipped', 0)
redis.call('PEXPIRE', KEYS[3], ARGV[1])
redis.call('SET', KEYS[4], '', 'PX', ARGV[1])
return total
`)

// createScript stores a new digest with its number of recipients and moves
// the newsletter's cutoff forward (never back), unless it is a test
// digest. It keeps the cutoff it replaced in the digest's hash
// (prev_cutoff), for a cancel before the start to give the articles back,
// and returns it (empty for none, and for a test digest). A scheduled
// digest (ARGV[7] its send_at) is filed in the scheduled index, its
// audience still to freeze (audience_pending).
//
// KEYS: digest hash, cutoff, digests index, scheduled index.
// ARGV: meta JSON, "1" for a test digest, total, cutoff ms, created ms, id,
// send_at ms or "".
var createScript = redis.NewScript(`
local prev = ''
if ARGV[2] ~= '1' then
  prev = redis.call('GET', KEYS[2]) or ''
  if prev == '' or tonumber(ARGV[4]) > tonumber(prev) then redis.call('SET', KEYS[2], ARGV[4]) end
end
redis.call('HSET', KEYS[1], 'meta', ARGV[1], 'status', 'queued', 'total', ARGV[3], 'prev_cutoff', prev)
if ARGV[7] ~= '' then
  redis.call('HSET', KEYS[1], 'audience_pending', '1')
  redis.call('ZADD', KEYS[4], ARGV[7], ARGV[6])
end
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[6])
return prev
`)

// AudienceKeyFunc names the confirmed audience of a newsletter in one
// partition (Readers.AudienceKey, with the status fixed).
type AudienceKeyFunc func(p newsletter.Partition) string

// create stores d: first each partition's part of its audience (unless d
// is scheduled: that waits for freeze), then the digest itself. It returns the number of recipients and the cutoff, in
// unix ms, that it replaced ("" for none). A failure between the two
// leaves partition data that no digest names, and that expires.
func (s *Store) create(ctx context.Context, d *Digest, confirmed AudienceKeyFunc) (total int64, prevCutoff string, err error) {
	sendAt := ""
	if d.SendAt != nil {
		sendAt = itoa(d.SendAt.UnixMilli())
	} else if total, err = s.createParts(ctx, d, confirmed); err != nil {
		return 0, "", err
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return 0, "", err
	}
	test := "0"
	if d.IsTest() {
		test = "1"
	}
	keys := []string{keyDigest(d.ID), keyCutoff(d.Newsletter), keyDigests(d.Newsletter), keyScheduled(d.Newsletter)}
	prevCutoff, err = createScript.Run(ctx, s.rdb, keys, raw, test, total,
		d.Cutoff.UnixMilli(), d.CreatedAt.UnixMilli(), d.ID, sendAt).Text()
	return total, prevCutoff, err
}

// createParts runs createPartScript in every partition (partition 0 only
// for a test digest), in one pipeline, and returns the total.
func (s *Store) createParts(ctx context.Context, d *Digest, confirmed AudienceKeyFunc) (int64, error) {
	parts, test := newsletter.AllPartitions(), -1
	if d.IsTest() {
		parts, test = parts[:1], len(d.TestRecipients)
	}
	cmds := make([]*redis.Cmd, len(parts))
	_, err := s.rdb.Pipelined(ctx, func(pl redis.Pipeliner) error {
		for i, p := range parts {
			keys := []string{keyAudience(p, d.ID), confirmed(p), keyCounts(p, d.ID), keyDone(p, d.ID)}
			cmds[i] = createPartScript.Eval(ctx, pl, keys, s.Retention.Milliseconds(), test) // once per digest: the text is cheap
		}
		return nil
	})
	var total int64
	for _, c := range cmds {
		n, _ := c.Int64()
		total += n
	}
	return total, err
}

// Get returns digest id with its current status and counts, or nil; not
// its clicks and opens, which Engagement adds where they are shown. A
// digest sent in full answers from its hash alone.
func (s *Store) Get(ctx context.Context, id string) (*Digest, error) {
	h, err := s.rdb.HGetAll(ctx, keyDigest(id)).Result()
	if err != nil || len(h) == 0 {
		return nil, err
	}
	var d Digest
	if err := json.Unmarshal([]byte(h["meta"]), &d); err != nil {
		return nil, fmt.Errorf("digests: decode %s: %w", id, err)
	}
	d.Status = Status(h["status"])
	_, kept := h["sent"] // the counts as the digest finished
	if !kept || d.Status != StatusSent {
		if d.Counts, err = s.progress(ctx, id); err != nil {
			return nil, err
		}
	}
	if kept && d.Counts.Total == 0 { // sent in full, or finished and its partitions' data expired
		d.Counts = Counts{Sent: atoi(h["sent"]), Failed: atoi(h["failed"]), Skipped: atoi(h["skipped"])}
	}
	d.Counts.Total = atoi(h["total"])
	if ms := atoi(h["finished_at"]); ms > 0 {
		t := time.UnixMilli(ms).UTC()
		d.FinishedAt = &t
	}
	if msg := h["last_error"]; msg != "" {
		d.LastError = &Problem{Message: msg, At: time.UnixMilli(atoi(h["last_error_at"])).UTC()}
	}
	d.Reports = ReportCounts{BouncedHard: atoi(h[reportField+ReportHard]), BouncedSoft: atoi(h[reportField+ReportSoft]),
		Complaints: atoi(h[reportField+ReportComplaint]), Unsubscribes: atoi(h[reportField+ReportUnsubscribe])}
	return &d, nil
}

// reportField prefixes the fields of a digest's hash that count reports.
const reportField = "r:"

// CountReport counts one report of kind (ReportHard, ...) about digest id,
// when the digest exists; the count stays with the digest's hash for as
// long as the digest.
func (s *Store) CountReport(ctx context.Context, id, kind string) error {
	switch kind {
	case ReportHard, ReportSoft, ReportComplaint, ReportUnsubscribe:
	default:
		return fmt.Errorf("digests: unknown report kind %q", kind)
	}
	if !ValidID(id) {
		return nil
	}
	return countReportScript.Run(ctx, s.rdb, []string{keyDigest(id)}, reportField+kind).Err()
}

// countReportScript increments field ARGV[1] of digest hash KEYS[1] when
// the digest exists (a report about a digest deleted since is dropped).
var countReportScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
`)

// partProgressScript reads one partition's counts and the BITCOUNT of its
// done bitmap in one step, so that its sent count never goes negative.
//
// KEYS: counts, done bitmap. It returns {total, failed, skipped, done}.
var partProgressScript = redis.NewScript(`
local c = redis.call('HMGET', KEYS[1], 'total', 'failed', 'skipped')
return {tonumber(c[1] or 0), tonumber(c[2] or 0), tonumber(c[3] or 0), redis.call('BITCOUNT', KEYS[2])}
`)

// progress sums digest id's counts over the partitions, in one pipeline.
func (s *Store) progress(ctx context.Context, id string) (Counts, error) {
	parts := newsletter.AllPartitions()
	cmds := make([]*redis.Cmd, len(parts))
	_, err := s.rdb.Pipelined(ctx, func(pl redis.Pipeliner) error {
		for i, p := range parts {
			cmds[i] = partProgressScript.Eval(ctx, pl, []string{keyCounts(p, id), keyDone(p, id)})
		}
		return nil
	})
	if err != nil {
		return Counts{}, err
	}
	var c Counts
	for _, cmd := range cmds {
		v, err := cmd.Int64Slice()
		if err != nil || len(v) < 4 {
			return Counts{}, fmt.Errorf("digests: progress: %v", err)
		}
		c.Total, c.Failed, c.Skipped = c.Total+v[0], c.Failed+v[1], c.Skipped+v[2]
		c.Sent += v[3] - v[1] - v[2]
	}
	return c, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// maxProblemLen caps a stored error message: a server's reply can be long.
const maxProblemLen = 500

// NoteProblem keeps err as digest id's last error, at now, for editors to
// see while it is retried; a digest that does not exist is left alone.
func (s *Store) NoteProblem(ctx context.Context, id string, err error, now time.Time) error {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if len(msg) > maxProblemLen {
		msg = strings.ToValidUTF8(msg[:maxProblemLen], "") + "…"
	}
	return noteProblemScript.Run(ctx, s.rdb, []string{keyDigest(id)}, msg, now.UnixMilli()).Err()
}

// noteProblemScript sets the last error of an existing digest (KEYS[1]).
var noteProblemScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'last_error', ARGV[1], 'last_error_at', ARGV[2])
end
return 0
`)

// Status returns digest id's status alone, cheaply.
func (s *Store) Status(ctx context.Context, id string) (Status, error) {
	st, err := s.rdb.HGet(ctx, keyDigest(id), "status").Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return Status(st), err
}

// cutoff returns the time up to which newsletter nl's articles went out, or
// the zero time before its first digest.
func (s *Store) cutoff(ctx context.Context, nl string) (time.Time, error) {
	ms, err := s.rdb.Get(ctx, keyCutoff(nl)).Int64()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, nil
	}
	return time.UnixMilli(ms).UTC(), err
}

// claimIdempotencyKey binds key to digest id for 24 hours and returns the
// id already bound to it, if another request got there first.
func (s *Store) claimIdempotencyKey(ctx context.Context, nl, key, id string) (string, error) {
	k := keyIdempotency(nl, key)
	ok, err := s.rdb.SetNX(ctx, k, id, idempotencyTTLHours*time.Hour).Result()
	if err != nil || ok {
		return "", err
	}
	return s.rdb.Get(ctx, k).Result()
}

// idempotent returns the digest id bound to key, or "" if none is.
func (s *Store) idempotent(ctx context.Context, nl, key string) (string, error) {
	id, err := s.rdb.Get(ctx, keyIdempotency(nl, key)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return id, err
}

// releaseIdempotencyKey forgets key, when creating its digest failed.
func (s *Store) releaseIdempotencyKey(ctx context.Context, nl, key string) error {
	return s.rdb.Del(ctx, keyIdempotency(nl, key)).Err()
}

// claimSlot marks a scheduled slot handled and reports whether this call
// was the first to do so.
func (s *Store) claimSlot(ctx context.Context, nl string, slot time.Time) (bool, error) {
	return s.rdb.SetNX(ctx, keySlot(nl, slot.Unix()), 1, 7*24*time.Hour).Result()
}

// releaseSlot forgets that a slot was handled, when handling it failed.
func (s *Store) releaseSlot(ctx context.Context, nl string, slot time.Time) error {
	return s.rdb.Del(ctx, keySlot(nl, slot.Unix())).Err()
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Unfinished returns newsletter nl's digests that are queued or sending,
// among its latest ten.
func (s *Store) Unfinished(ctx context.Context, nl string) ([]*Digest, error) {
	ids, err := s.rdb.ZRevRange(ctx, keyDigests(nl), 0, 9).Result()
	if err != nil {
		return nil, err
	}
	var out []*Digest
	for _, id := range ids {
		d, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if d != nil && !d.Status.Finished() {
			out = append(out, d)
		}
	}
	return out, nil
}

// History returns up to limit of newsletter nl's digests from offset,
// newest first, tests and cancelled ones included, and how many it has in
// all: the editors' history of a newsletter.
func (s *Store) History(ctx context.Context, nl string, offset, limit int) ([]*Digest, int64, error) {
	var ids *redis.StringSliceCmd
	var total *redis.IntCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		ids = p.ZRevRange(ctx, keyDigests(nl), int64(offset), int64(offset+limit-1))
		total = p.ZCard(ctx, keyDigests(nl))
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("digests: history: %w", err)
	}
	out := make([]*Digest, 0, len(ids.Val()))
	for _, id := range ids.Val() {
		d, err := s.Get(ctx, id)
		if err != nil {
			return nil, 0, fmt.Errorf("digests: history: %w", err)
		}
		if d != nil {
			out = append(out, d)
		}
	}
	return out, total.Val(), nil
}
