package i18n

import (
	"fmt"
	"maps"
	"slices"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/message/catalog"
)

// texts is one language's messages: the sentence of each key, in fmt's
// notation.
type texts map[string]string

// forms is one message that shows a count, in the plural forms of CLDR:
// English has One and Other; Ukrainian One (1, 21, ...), Few (2-4,
// 22-24, ...), Many (0, 5-20, 25-30, ...) and Other (fractions). The count
// is the message's first argument.
type forms struct {
	One, Few, Many, Other string
}

// dictionary is one language's part of the catalog.
type dictionary struct {
	texts   texts
	plurals map[string]forms
}

// dictionaries holds the messages of each language: en.go and uk.go.
var dictionaries = map[Lang]dictionary{
	English:   {texts: englishTexts, plurals: englishPlurals},
	Ukrainian: {texts: ukrainianTexts, plurals: ukrainianPlurals},
}

// Has reports whether the catalog holds message key in l.
func Has(l Lang, key string) bool {
	d := dictionaries[Of(string(l))]
	_, text := d.texts[key]
	_, counted := d.plurals[key]
	return text || counted
}

// Keys returns the key of every message of l, sorted.
func Keys(l Lang) []string {
	d := dictionaries[l]
	keys := slices.Collect(maps.Keys(d.texts))
	keys = slices.AppendSeq(keys, maps.Keys(d.plurals))
	slices.Sort(keys)
	return keys
}

// Text returns the untranslated text of message key in l, and for a
// message with plural forms each of its forms, for checks of the catalog.
func Text(l Lang, key string) (text string, pluralForms []string) {
	d := dictionaries[l]
	if f, ok := d.plurals[key]; ok {
		return "", []string{f.One, f.Few, f.Many, f.Other}
	}
	return d.texts[key], nil
}

// mustCatalog builds the catalog of every language; a message that does
// not compile is a bug, so it panics.
func mustCatalog() catalog.Catalog {
	b := catalog.NewBuilder(catalog.Fallback(langs[0].tag))
	for _, l := range langs {
		d := dictionaries[l.lang]
		for key, text := range d.texts {
			must(b.SetString(l.tag, key, text), key)
		}
		for key, f := range d.plurals {
			must(b.Set(l.tag, key, f.message()), key)
		}
	}
	return b
}

// message is f as the catalog selects among forms by the first argument.
func (f forms) message() catalog.Message {
	cases := []any{}
	for _, c := range []struct {
		form plural.Form
		text string
	}{{plural.One, f.One}, {plural.Few, f.Few}, {plural.Many, f.Many}, {plural.Other, f.Other}} {
		if c.text != "" {
			cases = append(cases, c.form, c.text)
		}
	}
	return plural.Selectf(1, "%d", cases...)
}

func must(err error, key string) {
	if err != nil {
		panic(fmt.Sprintf("i18n: message %q: %v", key, err))
	}
}
