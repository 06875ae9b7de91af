package subscribers

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter"
	"newsletter/internal/redistest"
)

// TestIDPoolReservesAheadOnce checks that the pool asks one signup at a
// time to reserve the next block, as soon as a partition runs low and
// before it runs out, and hands ids out in order, the new block after
// the ids it held.
func TestIDPoolReservesAheadOnce(t *testing.T) {
	var ip idPool
	p := newsletter.Partition(5)
	if _, ok, reserve := ip.next(p); ok || !reserve {
		t.Fatalf("an empty pool: ok %v, reserve %v; want no id and a reservation", ok, reserve)
	}
	if _, _, reserve := ip.next(p); reserve {
		t.Fatal("a second signup was asked to reserve while the first one is")
	}
	ip.add(p, idBlock) // ids 1..idBlock
	var reserves int
	for want := int64(1); want <= idBlock; want++ {
		id, ok, reserve := ip.next(p)
		if !ok || newsletter.BitOf(id) != want || newsletter.PartitionOf(id) != p {
			t.Fatalf("took %d (ok %v), want n %d in partition %d", id, ok, want, p)
		}
		if reserve {
			reserves++
			if left := idBlock - want; left >= idLow {
				t.Fatalf("asked to reserve with %d ids left", left)
			}
			ip.add(p, 2*idBlock) // the next block, while ids are left
		}
	}
	if reserves != 1 {
		t.Fatalf("asked to reserve %d times over a block, want once", reserves)
	}
	if id, ok, _ := ip.next(p); !ok || newsletter.BitOf(id) != idBlock+1 {
		t.Fatalf("after the first block took %d (ok %v), want n %d", id, ok, idBlock+1)
	}
	ip.giveBack(p, newsletter.SubscriberID(p, idBlock+1))
	if id, _, _ := ip.next(p); newsletter.BitOf(id) != idBlock+1 {
		t.Fatalf("after a give-back took n %d, want %d again", newsletter.BitOf(id), idBlock+1)
	}
	asked := false
	for i := 0; i < idBlock && !asked; i++ {
		_, _, asked = ip.next(p)
	}
	if !asked {
		t.Fatal("running low again: not asked to reserve")
	}
	ip.reserveFailed(p)
	if _, _, reserve := ip.next(p); !reserve {
		t.Fatal("after a failed reservation: not asked to reserve again")
	}
}

// TestNewAddressScriptSentAgainKeepsItsID runs newAddressScript twice with
// the same id, as go-redis does when it sends a pipeline again after
// losing its answer: the second run finds the address holding that id,
// and the id is not handed out again; a different id reserved for the
// same address is.
func TestNewAddressScriptSentAgainKeepsItsID(t *testing.T) {
	_, s, in := newSignupFixture(t, "sent.twice@example.org")
	ctx := context.Background()
	id, other := newsletter.SubscriberID(in.part, 41), newsletter.SubscriberID(in.part, 42)
	first, err := s.runSignupScript(ctx, id, true, in, true)
	if err != nil || !slices.Equal(first, []int64{0, 1, 1}) {
		t.Fatalf("first run: %v %v, want [0 1 1]", first, err)
	}
	again, err := s.runSignupScript(ctx, id, true, in, true)
	if err != nil || !slices.Equal(again, []int64{-1, id, 1}) {
		t.Fatalf("the same command again: %v %v, want [-1 %d 1]", again, err, id)
	}
	if idUnused(again, id) {
		t.Fatal("the id the first run took would go back to the pool")
	}
	taken, err := s.runSignupScript(ctx, other, true, in, true)
	if err != nil || !slices.Equal(taken, []int64{-1, id, 0}) {
		t.Fatalf("another id for the known address: %v %v, want [-1 %d 0]", taken, err, id)
	}
	if !idUnused(taken, other) {
		t.Fatal("an id the known address did not take is kept from the pool")
	}
}

// TestIDPoolHandsEachIDOutOnce has signups in many goroutines take ids of
// one partition, reserve blocks when told to (some of them failing),
// reserve at once when the pool is empty, and give some ids back unused:
// no id in use is ever handed out twice.
func TestIDPoolHandsEachIDOutOnce(t *testing.T) {
	rdb := redistest.Client(t)
	ctx := context.Background()
	var ip idPool
	p := newsletter.Partition(9)
	var mu sync.Mutex
	used := map[int64]bool{}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 400 {
				id, ok, reserve := ip.next(p)
				if reserve {
					if (g+i)%5 == 0 {
						ip.reserveFailed(p)
					} else if last, err := rdb.IncrBy(ctx, keyNext(p), idBlock).Result(); err != nil {
						ip.reserveFailed(p)
					} else {
						ip.add(p, last)
					}
				}
				if !ok {
					var err error
					if id, err = ip.take(ctx, rdb, p); err != nil {
						t.Error(err)
						return
					}
				}
				if i%7 == 0 {
					ip.giveBack(p, id)
					continue
				}
				mu.Lock()
				if used[id] {
					t.Errorf("id %d handed out twice", id)
				}
				used[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(used) < 8*300 {
		t.Fatalf("%d ids in use, want at least %d", len(used), 8*300)
	}
}

// TestSignupRefusedAtItsGateKeepsNoID: a signup whose client limit is
// full ends at its gate, before any script saw the id it took from the
// pool; the id goes back and the next new address gets it.
func TestSignupRefusedAtItsGateKeepsNoID(t *testing.T) {
	rdb, s, in := newSignupFixture(t, "refused.at.gate@example.org")
	ctx := context.Background()
	in.limits.client = []*windowArgs{{key: "nl:{nl}:test:full", window: 60_000, limit: 0, member: "m1"}}
	s.ids.add(in.part, 10) // ids n 1 to 10
	res, err := s.signup(ctx, in)
	if err != nil || res.wait <= 0 {
		t.Fatalf("signup past a full client limit: %+v, %v; want a wait", res, err)
	}
	if id, ok, _ := s.ids.next(in.part); !ok || newsletter.BitOf(id) != 1 {
		t.Fatalf("the next id is n %d (ok %v), want 1 back in the pool", newsletter.BitOf(id), ok)
	}
	if n, err := rdb.HLen(ctx, keyIndex(in.part)).Result(); err != nil || n != 0 {
		t.Fatalf("the partition's index holds %d addresses (%v), want none", n, err)
	}
}

// newSignupFixture returns a test database, a Store on it, and a signup
// of addr to "daily" now, with the contract's address limits.
func newSignupFixture(t *testing.T, addr string) (*redis.Client, *Store, signupInput) {
	t.Helper()
	rdb := redistest.Client(t)
	c := Consent{Action: ActionSignup, Newsletters: []string{"daily"}, At: time.Now(), IP: "203.0.113.9"}
	return rdb, NewStore(rdb), testSignupInput(rdb, addr, c.Newsletters, c, "")
}
