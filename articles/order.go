package articles

import (
	"cmp"
	"math"
	"slices"
)

// EditorialOrder sorts list as a digest shows it: lead articles first,
// then those with a position, lowest first, then the rest; newest first
// within each.
func EditorialOrder(list []Article) {
	slices.SortStableFunc(list, func(a, b Article) int {
		if a.Lead != b.Lead {
			if a.Lead {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(rank(a.Position), rank(b.Position)); c != 0 {
			return c
		}
		return b.PublishedAt.Compare(a.PublishedAt)
	})
}

// rank is a position to sort by: an unset one (0 or below) after all.
func rank(position int) int {
	if position <= 0 {
		return math.MaxInt
	}
	return position
}
