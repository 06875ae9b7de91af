package i18n

import (
	"strconv"
	"time"
)

// ukrainianMonths are the months in the genitive, as a date says them:
// "2 грудня 2026".
var ukrainianMonths = [12]string{"січня", "лютого", "березня", "квітня", "травня", "червня",
	"липня", "серпня", "вересня", "жовтня", "листопада", "грудня"}

// Date says the day of t (in t's location) as a page does: "6 December
// 2026", "6 грудня 2026".
func (l Lang) Date(t time.Time) string {
	if Of(string(l)) == Ukrainian {
		return ukrainianDate(t)
	}
	return t.Format("2 January 2006")
}

// LongDate says the day of t (in t's location) as the head of a digest
// does: "December 6, 2026", "6 грудня 2026".
func (l Lang) LongDate(t time.Time) string {
	if Of(string(l)) == Ukrainian {
		return ukrainianDate(t)
	}
	return t.Format("January 2, 2006")
}

func ukrainianDate(t time.Time) string {
	return strconv.Itoa(t.Day()) + " " + ukrainianMonths[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// Duration says d in whole days, hours or minutes, as a reader would: "7
// days", "7 днів".
func (l Lang) Duration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return l.T("duration.days", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return l.T("duration.hours", int(d.Hours()))
	case d >= 2*time.Minute:
		return l.T("duration.minutes", int(d.Minutes()))
	}
	return d.String()
}

// List names items as a sentence does: "A", "A and B", "A, B and C".
func (l Lang) List(items []string) string {
	s := ""
	for i, item := range items {
		s += l.Separator(i, len(items)) + item
	}
	return s
}

// Separator is what goes before item i of n in a list in a sentence: "",
// ", " or " and ".
func (l Lang) Separator(i, n int) string {
	switch {
	case i == 0:
		return ""
	case i == n-1:
		return l.T("list.and")
	}
	return ", "
}
