package i18n_test

import (
	"strings"
	"testing"
	"time"

	"newsletter/i18n"
)

// TestEveryMessageIsTranslated fails when a message of one language lacks
// in another, or has an empty text or plural form.
func TestEveryMessageIsTranslated(t *testing.T) {
	want := map[i18n.Lang][]int{i18n.English: {0, 3}, i18n.Ukrainian: {0, 1, 2, 3}} // plural forms each needs
	for _, l := range i18n.All() {
		for _, other := range i18n.All() {
			for _, key := range i18n.Keys(other) {
				if !i18n.Has(l, key) {
					t.Errorf("message %q has no %s translation", key, l)
				}
			}
		}
		for _, key := range i18n.Keys(l) {
			checkMessage(t, l, key, want[l])
		}
	}
}

func checkMessage(t *testing.T, l i18n.Lang, key string, forms []int) {
	t.Helper()
	text, plural := i18n.Text(l, key)
	if plural == nil {
		if strings.TrimSpace(text) == "" {
			t.Errorf("message %q is empty in %s", key, l)
		}
		if strings.ContainsAny(text, "<>&") {
			t.Errorf("message %q in %s holds markup; pass it as an argument", key, l)
		}
		return
	}
	for _, f := range forms {
		if plural[f] == "" {
			t.Errorf("message %q in %s lacks plural form %d", key, l, f)
		}
	}
}

// TestArgumentsAgree fails when a translation takes other arguments than
// the English message.
func TestArgumentsAgree(t *testing.T) {
	for _, key := range i18n.Keys(i18n.English) {
		en, _ := i18n.Text(i18n.English, key)
		for _, l := range i18n.All() {
			text, _ := i18n.Text(l, key)
			if got, want := strings.Count(text, "%"), strings.Count(en, "%"); got != want {
				t.Errorf("message %q: %s has %d arguments, English %d", key, l, got, want)
			}
		}
	}
}

func TestUkrainianPlurals(t *testing.T) {
	for d, want := range map[time.Duration]string{
		24 * 21 * time.Hour: "21 день", 24 * 2 * time.Hour: "2 дні", 24 * 7 * time.Hour: "7 днів",
		24 * 11 * time.Hour: "11 днів", 22 * time.Hour: "22 години", 5 * time.Hour: "5 годин",
		21 * time.Minute: "21 хвилину", 30 * time.Minute: "30 хвилин",
	} {
		if got := i18n.Ukrainian.Duration(d); got != want {
			t.Errorf("Ukrainian.Duration(%v) = %q, want %q", d, got, want)
		}
	}
	if got := i18n.English.Duration(168 * time.Hour); got != "7 days" {
		t.Errorf("English.Duration(168h) = %q, want 7 days", got)
	}
}

func TestDates(t *testing.T) {
	at := time.Date(2026, time.December, 2, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		got, want string
	}{
		{i18n.English.Date(at), "2 December 2026"},
		{i18n.English.LongDate(at), "December 2, 2026"},
		{i18n.Ukrainian.Date(at), "2 грудня 2026"},
		{i18n.Ukrainian.LongDate(at), "2 грудня 2026"},
		{i18n.Ukrainian.Date(at.AddDate(0, -11, 0)), "2 січня 2026"},
	} {
		if c.got != c.want {
			t.Errorf("date = %q, want %q", c.got, c.want)
		}
	}
}

func TestMatch(t *testing.T) {
	for header, want := range map[string]i18n.Lang{
		"":                           i18n.English,
		"uk":                         i18n.Ukrainian,
		"uk-UA,uk;q=0.9,en;q=0.8":    i18n.Ukrainian,
		"en-US,en;q=0.9,uk;q=0.8":    i18n.English,
		"de-DE,uk;q=0.5":             i18n.Ukrainian,
		"fr-FR,fr;q=0.9":             i18n.English,
		"*":                          i18n.English,
		"not a header;;;q=x":         i18n.English,
		"en;q=0.1, uk-Cyrl-UA;q=0.9": i18n.Ukrainian,
	} {
		if got := i18n.Match(header); got != want {
			t.Errorf("Match(%q) = %s, want %s", header, got, want)
		}
	}
}

func TestT(t *testing.T) {
	if got := i18n.Ukrainian.T("form.subscribe_to", "«Ранок»"); got != "Підписатися на «Ранок»" {
		t.Errorf("T = %q", got)
	}
	if got := i18n.Ukrainian.List([]string{"А", "Б", "В"}); got != "А, Б та В" {
		t.Errorf("List = %q", got)
	}
	if _, err := i18n.English.Lookup("no.such.key"); err == nil {
		t.Error("Lookup of a missing key: no error")
	}
	if got := i18n.Lang("xx").T("form.subscribe"); got != "Subscribe" {
		t.Errorf("unknown language T = %q, want the default's", got)
	}
}
