package newsletter

import "strconv"

// Readers' data is split into Partitions partitions. Everything held about
// one address (its record, tokens, consent, statuses, its confirmation
// email waiting for the relay, its bits of every audience, its suppression)
// lives in one partition, chosen from the address, and every key of a
// partition carries the partition's hash tag, so that on a Redis Cluster a
// partition is one slot and every change to one reader is one atomic step.
// Audiences and a digest's progress are split the same way: a digest's
// batches each read and record within one partition.
//
// State that belongs to no reader (newsletters, limits, articles, digests'
// metadata) is small and lives under GlobalTag.
const Partitions = 64

// GlobalTag is the hash tag of the service's global state.
const GlobalTag = "{nl}"

// Partition is one of the Partitions partitions of readers' data.
type Partition int

// Tag returns the hash tag of p's keys, such as "{r07}".
func (p Partition) Tag() string {
	if p >= 0 && p < Partitions {
		return partitionTags[p]
	}
	return makeTag(p)
}

// partitionTags are the partitions' tags, made once: every key a reader's
// request names starts with one.
var partitionTags = func() (tags [Partitions]string) {
	for p := range tags {
		tags[p] = makeTag(Partition(p))
	}
	return tags
}()

func makeTag(p Partition) string {
	if p < 10 {
		return "{r0" + strconv.Itoa(int(p)) + "}"
	}
	return "{r" + strconv.Itoa(int(p)) + "}"
}

// AllPartitions returns every partition, in order.
func AllPartitions() []Partition {
	all := make([]Partition, Partitions)
	for i := range all {
		all[i] = Partition(i)
	}
	return all
}

// Subscriber ids are handed out per partition: the n-th subscriber of
// partition p has id n*Partitions+p, so an id names its partition, and its
// bit in the partition's bitmaps (audiences, a digest's progress) is n.

// SubscriberID returns the id of the n-th subscriber of partition p.
func SubscriberID(p Partition, n int64) int64 { return n*Partitions + int64(p) }

// PartitionOf returns the partition of subscriber id (of any int64, so that
// an id read from a forged token still names a partition).
func PartitionOf(id int64) Partition { return Partition((id%Partitions + Partitions) % Partitions) }

// BitOf returns subscriber id's bit in its partition's bitmaps.
func BitOf(id int64) int64 { return id / Partitions }
