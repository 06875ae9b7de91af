package digests

import (
	"errors"
	"regexp"
	"strings"
	"time"

	"newsletter"
	"newsletter/articles"
	"newsletter/templates"
)

// CheckTemplate reports whether the digest template of newsletter n
// (Newsletter.DigestTemplate) can stand in for the embedded one: it must
// parse, render a sample digest of n, and print the reader's unsubscribe
// link ({{.UnsubscribeURL}}) in an href, which each recipient's copy
// fills in. The
// error is EINVALIDNEWSLETTER on field "digest_template", naming the line.
// A newsletter without a template of its own passes.
func CheckTemplate(tpl *templates.Set, n *newsletter.Newsletter) error {
	if n.DigestTemplate == "" {
		return nil
	}
	if tpl == nil {
		return errors.New("digests: no templates to check a digest template with")
	}
	if big := bigRangeLiteral.FindString(n.DigestTemplate); big != "" {
		return invalidTemplate("The template loops over a large number (" + strings.TrimSpace(big) + "); loop over the digest's articles instead.")
	}
	b, err := Render(tpl, sampleDigest(n), n, "https://news.example", WithTemplate(n.DigestTemplate))
	if err != nil {
		return invalidTemplate(templateProblem(err))
	}
	if !strings.Contains(b.HTML, `href="`+placeholderUnsubscribe) {
		return invalidTemplate("The template must print the unsubscribe link, {{.UnsubscribeURL}} (in an <a href>), so that every reader can leave.")
	}
	return nil
}

func invalidTemplate(message string) error {
	return newsletter.FieldError(newsletter.EINVALIDNEWSLETTER, "digest_template", message)
}

// bigRangeLiteral finds a range over an integer of four digits or more
// ({{range 100000}}), which renders nothing and holds a worker for as long
// as it counts: the output cap does not stop it.
var bigRangeLiteral = regexp.MustCompile(`\{\{-?\s*range\s+(?:\$\w+\s*(?:,\s*\$\w+\s*)?:=\s*)?\(?\s*[0-9_]{4,}`)

// sampleDigest is a digest of n with every field a template may print.
func sampleDigest(n *newsletter.Newsletter) *Digest {
	now := time.Now().UTC()
	list := []articles.Article{
		{URL: "https://news.example/lead", Title: "A lead story", Summary: "What happened.\nAnd why.", PublishedAt: now,
			Author: "A. Writer", Section: "News", ImageURL: "https://news.example/lead.jpg", ImageAlt: "A photo", Lead: true},
		{URL: "https://news.example/second", Title: "Another story", PublishedAt: now.Add(-time.Hour), Position: 1},
	}
	return &Digest{ID: "sample", Newsletter: n.ID, Subject: n.Name, Intro: "An intro.", Articles: list, CreatedAt: now}
}

// templateLine finds the line and the problem in a template error:
// "template: override:3: ..." or "html/template:override:3:10: ...".
var templateLine = regexp.MustCompile(`template: ?` + templates.OverrideName + `:(\d+)(?::\d+)?: (.*)`)

// goType is the Go type an execution error names: " in type digests.view".
var goType = regexp.MustCompile(` in type [\w.*\[\]]+`)

// templateProblem is what an editor reads of a template error err: the
// line and the problem, without the names of Go types.
func templateProblem(err error) string {
	if strings.Contains(err.Error(), "ends in a non-text context") {
		return "The template ends inside a tag, an attribute or a comment: close it."
	}
	m := templateLine.FindStringSubmatch(err.Error())
	if m == nil {
		return "The template does not render: " + err.Error()
	}
	problem := strings.Replace(m[2], `executing "`+templates.OverrideName+`" at `, "at ", 1)
	return "Line " + m[1] + " of the template: " + goType.ReplaceAllString(problem, "")
}
