package newsletter_test

import (
	"slices"
	"testing"

	"newsletter"
)

// TestAppendIDs decodes bitmaps as Redis numbers their bits: from the most
// significant bit of the first byte.
func TestAppendIDs(t *testing.T) {
	for _, c := range []struct {
		name            string
		b               []byte
		first, from, to int64
		want            []int64
	}{
		{"empty", nil, 0, 0, 100, nil},
		{"bit 0 is the high bit", []byte{0x80}, 0, 0, 100, []int64{0}},
		{"all of a byte", []byte{0xff}, 0, 0, 100, []int64{0, 1, 2, 3, 4, 5, 6, 7}},
		{"offset", []byte{0x01, 0x40}, 10, 0, 1000, []int64{87, 89}},
		{"from and to", []byte{0xff, 0xff}, 0, 3, 12, []int64{3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		{"sparse", []byte{0, 0, 0x10, 0, 0x01}, 0, 0, 100, []int64{19, 39}},
	} {
		if got := newsletter.AppendIDs(nil, c.b, c.first, c.from, c.to); !slices.Equal(got, c.want) {
			t.Errorf("%s: AppendIDs = %v, want %v", c.name, got, c.want)
		}
	}
}

func BenchmarkAppendIDs(b *testing.B) {
	bitmap := make([]byte, 500/8+1)
	for i := range bitmap {
		bitmap[i] = 0xff
	}
	ids := make([]int64, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		ids = newsletter.AppendIDs(ids[:0], bitmap, 0, 0, 1<<40)
	}
}
