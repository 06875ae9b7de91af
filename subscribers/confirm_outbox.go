package subscribers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter"
	"newsletter/throttle"
)

// The confirmation outbox. signupScript appends a signup's confirmation
// email to it in the same atomic step that stores the token, so a signup
// whose email was held back by nothing always gets its email, even when
// the queue cannot be reached at that moment; RelayConfirmations hands the
// emails on to the Notifier in order, and only then removes them.
//
// An entry is the subscriber id, a newline, the newsletters to confirm
// (comma separated), a newline, the token's number and the signup's unix
// second (space separated), a newline, and the outboxPayload as JSON. The
// token itself is made by the relay (it is never stored). Each
// partition has an outbox of its own (keyOutbox), with its dead list
// (keyOutboxDead: entries the relay could not read, kept for an operator)
// and the lease of the relay at work on it (keyOutboxRelay).

// RelayBatch is how many confirmation emails one RelayConfirmations call
// hands on at most.
const RelayBatch = 100

// relayLease is how long a relay holds the outbox without finishing its
// batch before another may take it (handing the same emails on again).
const relayLease = 30 * time.Second

// outboxPayload is what the signup knows before its script runs.
type outboxPayload struct {
	Email     string `json:"e"`
	RequestID string `json:"r,omitempty"`
}

// confirmationPayload is the payload of a signup's confirmation email, as
// JSON: the end of its outbox entry.
func (s *Service) confirmationPayload(ctx context.Context, addr string) ([]byte, error) {
	if s.Sealer == nil {
		return nil, errors.New("subscribers: the Service has no Sealer for confirmation tokens")
	}
	return json.Marshal(outboxPayload{Email: addr, RequestID: newsletter.RequestID(ctx)})
}

// takeOutboxScript leases the outbox to relay ARGV[1] for ARGV[2]
// milliseconds and returns its first ARGV[3] entries; it returns nothing
// when the outbox is empty or another relay holds the lease. A relay may
// take again a lease it holds: one whose batch failed half-way (Redis
// lost, a failover) goes on at once, not when its lease runs out.
var takeOutboxScript = redis.NewScript(`
if redis.call('LLEN', KEYS[1]) == 0 then return {} end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return {} end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[3]) - 1)
`)

// doneOutboxScript removes the first ARGV[2] entries, appends the rest of
// ARGV (unreadable entries among them) to the dead list KEYS[3] and ends
// relay ARGV[1]'s lease, if the lease is still its own; a relay whose
// lease ran out does nothing, since the relay that took over hands the
// same entries on and removes them.
var doneOutboxScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then redis.call('LTRIM', KEYS[1], ARGV[2], -1) end
for i = 3, #ARGV do redis.call('RPUSH', KEYS[3], ARGV[i]) end
redis.call('DEL', KEYS[2])
return 1
`)

// errLeaseLost is a relay's error when another relay took the outbox over
// before it finished: the emails it handed on go out again.
var errLeaseLost = errors.New("the relay's lease ran out before it finished; its emails are handed on again")

// RelayConfirmations hands up to RelayBatch confirmation emails from the
// outbox to the Notifier, oldest first, and removes those handed on. It
// returns how many it took off the outbox: handed on, blank (erased) or
// unreadable (moved to the dead list, and logged). Only one relay works at
// a time across processes; while another does, it returns 0. When the
// Notifier fails, the emails from that one on stay for the next call; a
// relay stops its batch early when half its lease has passed.
//
// An email can go out twice only when a relay stops between handing it on
// and removing it (killed, or Redis lost in between), or overruns its
// lease anyway: the Notifier gets it again, and the worker's Notifier
// drops a repeat while the first is still queued.
func (s *Service) RelayConfirmations(ctx context.Context) (int, error) {
	full, err := s.Store.fullOutboxes(ctx)
	if err != nil {
		return 0, relayError(err)
	}
	total := 0
	for _, p := range full {
		n, err := s.relayPartition(ctx, p, RelayBatch-total)
		total += n
		if err != nil || total >= RelayBatch {
			return total, err
		}
	}
	return total, nil
}

// fullOutboxes returns the partitions whose outbox holds emails, in one
// round trip (one per node on a cluster).
func (s *Store) fullOutboxes(ctx context.Context) ([]newsletter.Partition, error) {
	lens := make([]*redis.IntCmd, newsletter.Partitions)
	_, err := s.rdb.Pipelined(ctx, func(pl redis.Pipeliner) error {
		for _, p := range newsletter.AllPartitions() {
			lens[p] = pl.LLen(ctx, keyOutbox(p))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var full []newsletter.Partition
	for p, n := range lens {
		if n.Val() > 0 {
			full = append(full, newsletter.Partition(p))
		}
	}
	return full, nil
}

// relayPartition relays up to max emails of partition p's outbox, as
// RelayConfirmations describes.
func (s *Service) relayPartition(ctx context.Context, p newsletter.Partition, max int) (int, error) {
	owner, start := s.relayOwner(), time.Now()
	keys := []string{keyOutbox(p), keyOutboxRelay(p), keyOutboxDead(p)}
	entries, err := takeOutboxScript.Run(ctx, s.Store.rdb, keys[:2], owner, relayLease.Milliseconds(), max).StringSlice()
	if err != nil || len(entries) == 0 {
		return 0, relayError(err)
	}
	taken, dead := 0, []any{}
	for _, e := range entries {
		if time.Since(start) > relayLease/2 {
			break
		}
		var unreadable bool
		if unreadable, err = s.relay(ctx, e, p); err != nil {
			break
		}
		if unreadable {
			dead = append(dead, e)
		}
		taken++
	}
	// Removing uses a context of its own, so that entries handed on before
	// ctx ended are not handed on again.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	own, derr := doneOutboxScript.Run(dctx, s.Store.rdb, keys, append([]any{owner, taken}, dead...)...).Int()
	if derr == nil && own == 0 {
		derr = errLeaseLost
	}
	return taken, relayError(errors.Join(err, derr))
}

func relayError(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("subscribers: relay confirmations: %w", err)
}

// relay hands one outbox entry on. A blank entry (its subscriber was
// erased) is skipped; one that cannot be read (sealed with a secret this
// process does not have, say) is logged and reported dead, to be moved
// aside: it would block every email after it.
func (s *Service) relay(ctx context.Context, entry string, p newsletter.Partition) (dead bool, err error) {
	if entry == "" {
		return false, nil
	}
	c, requestID, err := s.readOutboxEntry(entry)
	if err != nil {
		s.Logger.Error("Confirmation email moved to the outbox's dead list", "key", keyOutboxDead(p), "subscriber_id", c.SubscriberID, "error", err)
		return true, nil
	}
	if requestID != "" {
		ctx = newsletter.WithRequestID(ctx, requestID)
	}
	return false, s.Notifier.SendConfirmation(ctx, c)
}

// outboxEntry is a confirmation email as the partition's outbox holds it:
// the subscriber id, the newsletters it confirms, the token's number and
// the time, and the outboxPayload.
func outboxEntry(id int64, nls string, seq int, now string, payload []byte) string {
	var b strings.Builder
	b.Grow(len(nls) + len(now) + len(payload) + 32)
	b.WriteString(strconv.FormatInt(id, 10))
	b.WriteByte('\n')
	b.WriteString(nls)
	b.WriteByte('\n')
	b.WriteString(strconv.Itoa(seq))
	b.WriteByte(' ')
	b.WriteString(now)
	b.WriteByte('\n')
	b.Write(payload)
	return b.String()
}

// readOutboxEntry parses an entry that outboxEntry or signupScript wrote, and makes its
// confirmation token.
func (s *Service) readOutboxEntry(entry string) (ConfirmationEmail, string, error) {
	var c ConfirmationEmail
	lines := strings.SplitN(entry, "\n", 4)
	if len(lines) != 4 {
		return c, "", errors.New("malformed outbox entry")
	}
	id, err := strconv.ParseInt(lines[0], 10, 64)
	seqText, atText, ok := strings.Cut(lines[2], " ")
	seq, err2 := strconv.ParseInt(seqText, 10, 64)
	at, err3 := strconv.ParseInt(atText, 10, 64)
	if err != nil || err2 != nil || err3 != nil || !ok || lines[1] == "" {
		return c, "", errors.New("malformed outbox entry")
	}
	c.SubscriberID, c.Newsletters = id, strings.Split(lines[1], ",")
	var p outboxPayload
	if err := json.Unmarshal([]byte(lines[3]), &p); err != nil {
		return c, "", fmt.Errorf("outbox entry: %w", err)
	}
	if s.Sealer == nil {
		return c, "", errors.New("the Service has no Sealer for confirmation tokens")
	}
	claim := tokenClaim{SubscriberID: id, seq: seq, Issued: time.Unix(at, 0), Newsletters: c.Newsletters}
	c.Email, c.Token = p.Email, s.Sealer.confirmToken(claim)
	return c, p.RequestID, nil
}

// PendingConfirmations is how many confirmation emails wait in the outbox
// (erased subscribers' blanked ones included until the relay removes them),
// and how many the relay could not read and moved to the dead list.
func (s *Store) PendingConfirmations(ctx context.Context) (waiting, dead int64, err error) {
	w := make([]*redis.IntCmd, newsletter.Partitions)
	d := make([]*redis.IntCmd, newsletter.Partitions)
	_, err = s.rdb.Pipelined(ctx, func(pl redis.Pipeliner) error {
		for _, p := range newsletter.AllPartitions() {
			w[p], d[p] = pl.LLen(ctx, keyOutbox(p)), pl.LLen(ctx, keyOutboxDead(p))
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("subscribers: pending confirmations: %w", err)
	}
	for p := range w {
		waiting, dead = waiting+w[p].Val(), dead+d[p].Val()
	}
	return waiting, dead, nil
}

// relayIdle is how long RunConfirmationRelay waits after finding the outbox
// empty, and relayRetry after a failure.
const (
	relayIdle  = 50 * time.Millisecond
	relayRetry = time.Second
)

// RunConfirmationRelay relays confirmation emails until ctx ends: at once
// while the outbox is full, every relayIdle while it is empty, and after
// relayRetry when relaying fails (the failure logged).
func (s *Service) RunConfirmationRelay(ctx context.Context) {
	for {
		n, err := s.RelayConfirmations(ctx)
		wait := time.Duration(0)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.Logger.Warn("Relaying confirmation emails failed; retrying", "error", err)
			wait = relayRetry
		case n < RelayBatch:
			wait = relayIdle
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
	}
}

// relayOwner names this Service's relay in the outboxes' leases, the same
// for all its calls, so that it can take again a lease it holds.
func (s *Service) relayOwner() string {
	s.relayOnce.Do(func() { s.relayID = throttle.Member() })
	return s.relayID
}
