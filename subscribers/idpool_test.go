package subscribers

import (
	"testing"

	"newsletter"
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
