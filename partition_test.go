package newsletter_test

import (
	"testing"

	"newsletter"
)

func TestSubscriberIDsNameTheirPartition(t *testing.T) {
	for _, p := range newsletter.AllPartitions() {
		for _, n := range []int64{1, 2, 1000, 1 << 40} {
			id := newsletter.SubscriberID(p, n)
			if got := newsletter.PartitionOf(id); got != p {
				t.Fatalf("PartitionOf(SubscriberID(%d, %d)) = %d", p, n, got)
			}
			if got := newsletter.BitOf(id); got != n {
				t.Fatalf("BitOf(SubscriberID(%d, %d)) = %d", p, n, got)
			}
		}
	}
	if tag := newsletter.Partition(7).Tag(); tag != "{r07}" {
		t.Errorf("Tag(7) = %q", tag)
	}
	if tag := newsletter.Partition(63).Tag(); tag != "{r63}" {
		t.Errorf("Tag(63) = %q", tag)
	}
}
