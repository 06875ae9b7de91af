package digests

import (
	"context"
	"strconv"

	"github.com/redis/go-redis/v9"

	"newsletter/subscribers"
)

// BatchSize is how many recipients one batch task sends to.
const BatchSize = 500

// Batch is one slice of a digest's frozen audience, by rank.
type Batch struct {
	Digest string `json:"digest"`
	Start  int64  `json:"start"`
	Stop   int64  `json:"stop"` // inclusive
}

// Plan splits digest d's audience into batches.
func (s *Store) Plan(d *Digest) []Batch {
	var plan []Batch
	for start := int64(0); start < d.Counts.Total; start += BatchSize {
		plan = append(plan, Batch{Digest: d.ID, Start: start, Stop: min(start+BatchSize, d.Counts.Total) - 1})
	}
	return plan
}

// Recipient is one person a batch sends to.
type Recipient struct {
	Bit          int64 // the bit in the done bitmap
	SubscriberID int64 // 0 for a test recipient
	Email        string
	Name         string
	Done         bool // already has an outcome
	Gone         bool // unsubscribed or erased since the digest was made
}

// Recipients loads batch b's recipients with what sending needs to know, in
// three round trips whatever the batch size.
func (s *Store) Recipients(ctx context.Context, d *Digest, b Batch, subs *subscribers.Store) ([]Recipient, error) {
	if d.IsTest() {
		return s.testRecipients(ctx, d, b)
	}
	members, err := s.rdb.ZRange(ctx, keyAudience(d.ID), b.Start, b.Stop).Result()
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(members))
	for i, m := range members {
		ids[i], _ = strconv.ParseInt(m, 10, 64)
	}
	done, err := s.doneBits(ctx, d.ID, ids)
	if err != nil {
		return nil, err
	}
	contacts, err := subs.Contacts(ctx, d.Newsletter, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Recipient, len(ids))
	for i, c := range contacts {
		out[i] = Recipient{Bit: c.ID, SubscriberID: c.ID, Email: c.Email, Name: c.Name, Done: done[i],
			Gone: c.Email == "" || c.Status != subscribers.StatusConfirmed}
	}
	return out, nil
}

func (s *Store) testRecipients(ctx context.Context, d *Digest, b Batch) ([]Recipient, error) {
	bits := make([]int64, 0, len(d.TestRecipients))
	for i := range d.TestRecipients {
		bits = append(bits, int64(i))
	}
	done, err := s.doneBits(ctx, d.ID, bits)
	if err != nil {
		return nil, err
	}
	out := make([]Recipient, len(bits))
	for i, addr := range d.TestRecipients {
		out[i] = Recipient{Bit: int64(i), Email: addr, Done: done[i]}
	}
	return out, nil
}

func (s *Store) doneBits(ctx context.Context, id string, bits []int64) ([]bool, error) {
	cmds := make([]*redis.IntCmd, len(bits))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, b := range bits {
			cmds[i] = p.GetBit(ctx, keyDone(id), b)
		}
		return nil
	})
	out := make([]bool, len(bits))
	for i, c := range cmds {
		out[i] = c.Val() == 1
	}
	return out, err
}
