package api

import (
	"github.com/gin-gonic/gin"

	"newsletter"
	"newsletter/i18n"
)

// Every reader page is in one language (package i18n): a page about one
// newsletter in the newsletter's, a page about none, or about several of
// different languages, in the reader's, as Accept-Language asks. A handler
// picks it (langOf, langOfChoices, readerLang), takes the page's Go-made
// text from the catalog with lang.T("key", args...), and renders with
// pageData.Lang set, or through render with the language.

// readerLang is the language the request's Accept-Language prefers among
// the service's, English when none.
func readerLang(c *gin.Context) i18n.Lang {
	return i18n.Match(c.GetHeader("Accept-Language"))
}

// langOf is the language of newsletter n's pages and emails.
func langOf(n *newsletter.Newsletter) i18n.Lang {
	return i18n.Of(n.Lang())
}

// sharedLang is the language all of langs are, else (none, or several) the
// reader's.
func sharedLang(c *gin.Context, langs []i18n.Lang) i18n.Lang {
	if len(langs) == 0 {
		return readerLang(c)
	}
	for _, l := range langs[1:] {
		if l != langs[0] {
			return readerLang(c)
		}
	}
	return langs[0]
}

// langOfChoices is the language of a page about the newsletters of list:
// theirs when they share one, else the reader's.
func langOfChoices(c *gin.Context, list []choice) i18n.Lang {
	langs := make([]i18n.Lang, len(list))
	for i, ch := range list {
		langs[i] = ch.lang
	}
	return sharedLang(c, langs)
}
