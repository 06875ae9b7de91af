package newsletter

import "math/bits"

// An audience is a bitmap in which bit {subscriber id} is set for each
// reader in it; the subscribers package writes them and digests read them.

// AppendIDs appends to dst the ids whose bits are set in b, a slice of an
// audience bitmap that starts at byte offset first, that lie in [from, to],
// and returns dst. Redis numbers the bits of a byte from the most
// significant.
func AppendIDs(dst []int64, b []byte, first, from, to int64) []int64 {
	base := first * 8
	for i, c := range b {
		for c != 0 {
			lead := bits.LeadingZeros8(c)
			id := base + int64(i*8+lead)
			c &^= 0x80 >> lead
			if id > to {
				return dst
			}
			if id >= from {
				dst = append(dst, id)
			}
		}
	}
	return dst
}
