package i18n

import "golang.org/x/text/language"

// matcher picks among the languages; the first, Default, is its answer
// when nothing matches.
var matcher = newMatcher()

func newMatcher() language.Matcher {
	tags := make([]language.Tag, len(langs))
	for i, l := range langs {
		tags[i] = l.tag
	}
	return language.NewMatcher(tags)
}

// Match returns the language an Accept-Language header prefers among
// ours, Default when it prefers none of them or cannot be read.
func Match(acceptLanguage string) Lang {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Default
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return Default
	}
	return langs[i].lang
}
