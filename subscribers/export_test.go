package subscribers

import (
	"strconv"

	"newsletter"
)

// Keys and rules the external tests look at directly.
var (
	KeySubscriber = keySubscriber
)

// OutboxKeys returns the keys of the confirmation outbox of addr's
// partition: the outbox, its dead list and its relay's lease.
func OutboxKeys(addr string) (outbox, dead, relay string) {
	p := PartitionOf(addr)
	return keyOutbox(p), keyOutboxDead(p), keyOutboxRelay(p)
}

// AddressesInOnePartition returns n addresses "{prefix}{i}@example.org"
// that share a partition, in order.
func AddressesInOnePartition(prefix string, n int) []string {
	var out []string
	var p newsletter.Partition = -1
	for i := 0; len(out) < n; i++ {
		addr := prefix + strconv.Itoa(i) + "@example.org"
		if p == -1 {
			p = PartitionOf(addr)
		}
		if PartitionOf(addr) == p {
			out = append(out, addr)
		}
	}
	return out
}

// RelayOwner is the name s's relay holds the outboxes' leases under.
func RelayOwner(s *Service) string { return s.relayOwner() }
