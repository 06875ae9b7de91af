// Package i18n owns the languages readers read the service in and their
// messages: one catalog (golang.org/x/text/message) with every sentence of
// the reader pages and emails in English and Ukrainian, the choice of a
// language from Accept-Language, and dates, durations and lists as each
// language writes them.
//
// A message has a key ("confirm.heading"); Lang.T formats it, with
// fmt-style arguments (%s, %[2]s, %d) and plural forms where a count is
// shown. Templates reach the same catalog through the function t that the
// templates package binds to the language of each render.
package i18n

import (
	"fmt"
	"slices"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Lang is a language that pages and emails exist in, by its ISO 639-1
// code, as a newsletter's "language" names it.
type Lang string

// The languages of the service. Default is the one of a newsletter that
// names none and of a reader who asks for none we have.
const (
	English   Lang = "en"
	Ukrainian Lang = "uk"
	Default        = English
)

// langs lists the languages, Default first, with their tags.
var langs = []struct {
	lang Lang
	tag  language.Tag
}{{English, language.English}, {Ukrainian, language.Ukrainian}}

// All returns every language, Default first.
func All() []Lang {
	list := make([]Lang, len(langs))
	for i, l := range langs {
		list[i] = l.lang
	}
	return list
}

// Supported reports whether code names one of the languages.
func Supported(code string) bool { return slices.Contains(All(), Lang(code)) }

// Of returns the language code names, Default when it names none of them
// ("" included).
func Of(code string) Lang {
	if Supported(code) {
		return Lang(code)
	}
	return Default
}

// String returns the language's code, as <html lang> wants it.
func (l Lang) String() string { return string(Of(string(l))) }

// T returns message key in l, formatted with args as fmt does; a key the
// catalog lacks comes back as "!(key)" so that it shows, and Lookup tells
// it apart.
func (l Lang) T(key string, args ...any) string {
	if !Has(l, key) {
		return fmt.Sprintf("!(%s)", key)
	}
	return printers[Of(string(l))].Sprintf(key, args...)
}

// Lookup is T that fails for a key the catalog lacks in l.
func (l Lang) Lookup(key string, args ...any) (string, error) {
	if !Has(l, key) {
		return "", fmt.Errorf("i18n: no message %q in %s", key, l)
	}
	return l.T(key, args...), nil
}

// printers format each language's messages; a Printer is safe for
// concurrent use.
var printers = newPrinters()

func newPrinters() map[Lang]*message.Printer {
	cat := mustCatalog()
	m := map[Lang]*message.Printer{}
	for _, l := range langs {
		m[l.lang] = message.NewPrinter(l.tag, message.Catalog(cat))
	}
	return m
}
