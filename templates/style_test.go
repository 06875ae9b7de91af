package templates

import (
	"io/fs"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestHumanDate(t *testing.T) {
	at := time.Date(2026, 12, 6, 23, 30, 0, 0, time.UTC)
	kyiv, err := time.LoadLocation("Europe/Kyiv")
	if err != nil {
		t.Skip("no time zone data")
	}
	for loc, want := range map[*time.Location]string{nil: "6 December 2026", time.UTC: "6 December 2026", kyiv: "7 December 2026"} {
		if got := HumanDate(at, loc); got != want {
			t.Errorf("HumanDate(%v, %v) = %q, want %q", at, loc, got, want)
		}
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 1234: "1,234", 123456: "123,456",
		1234567: "1,234,567", -1234: "-1,234"} {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}

// cssRule is one rule of a style sheet: its selectors and declarations.
type cssRule struct{ selectors, decls string }

var styleBlock = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// styleRules returns the rules of the style sheet in a layout file, those
// inside media queries included.
func styleRules(t *testing.T, fsys fs.FS, name string) []cssRule {
	t.Helper()
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	m := styleBlock.FindSubmatch(raw)
	if m == nil {
		t.Fatalf("%s has no style sheet", name)
	}
	var rules []cssRule
	for _, chunk := range strings.Split(string(m[1]), "}") {
		// "sel{decls", or "@media (...){sel{decls" for the first rule of a
		// media query.
		i := strings.LastIndex(chunk, "{")
		if i < 0 {
			continue
		}
		sel := chunk[:i]
		sel = sel[strings.LastIndex(sel, "{")+1:]
		rules = append(rules, cssRule{strings.TrimSpace(sel), chunk[i+1:]})
	}
	return rules
}

// declared returns the value of property prop in the first rule whose
// selectors are exactly sel.
func declared(rules []cssRule, sel, prop string) string {
	for _, r := range rules {
		if r.selectors != sel {
			continue
		}
		for _, d := range strings.Split(r.decls, ";") {
			if k, v, ok := strings.Cut(d, ":"); ok && strings.TrimSpace(k) == prop {
				return strings.TrimSpace(v)
			}
		}
	}
	return ""
}

var (
	outlineRule  = regexp.MustCompile(`outline:(\d+)px solid (#[0-9a-fA-F]{3,6})`)
	outlineColor = regexp.MustCompile(`outline-color:(#[0-9a-fA-F]{3,6})`)
	hexColor     = regexp.MustCompile(`#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b`)
)

// TestFocusRingContrast checks that the focus ring of the reader pages and
// the editor pages is at least 2px and has a contrast of at least 3:1
// against the background it is drawn on (WCAG 2.2, 1.4.11 and 2.4.13):
// white in the main part, the header's colour in the editor header.
func TestFocusRingContrast(t *testing.T) {
	for _, tc := range []struct {
		fsys fs.FS
		file string
	}{{embedded, "pages/layout.html.tmpl"}, {adminFS, "admin/layout.html.tmpl"}} {
		rules := styleRules(t, tc.fsys, tc.file)
		mainBG := hexColor.FindString(declared(rules, "main", "background"))
		if mainBG == "" {
			t.Fatalf("%s: main has no background colour", tc.file)
		}
		rings := 0
		for _, r := range rules {
			if !strings.Contains(r.selectors, ":focus") {
				continue
			}
			bg := mainBG
			if strings.HasPrefix(r.selectors, "header ") {
				bg = hexColor.FindString(declared(rules, "header", "background"))
			}
			var color string
			if m := outlineRule.FindStringSubmatch(r.decls); m != nil {
				if w, _ := strconv.Atoi(m[1]); w < 2 {
					t.Errorf("%s: %s has a %spx focus ring, want at least 2px", tc.file, r.selectors, m[1])
				}
				color = m[2]
			} else if m := outlineColor.FindStringSubmatch(r.decls); m != nil {
				color = m[1]
			} else {
				continue
			}
			rings++
			if c := contrast(color, bg); c < 3 {
				t.Errorf("%s: the focus ring of %s is %s on %s, contrast %.2f:1, want at least 3:1", tc.file, r.selectors, color, bg, c)
			}
		}
		if rings == 0 {
			t.Errorf("%s: no focus ring", tc.file)
		}
	}
}

// contrast returns the WCAG contrast ratio of two #rgb or #rrggbb colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}

func luminance(hex string) float64 {
	hex = strings.TrimPrefix(hex, "#")
	if len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	var l float64
	for i, weight := range []float64{0.2126, 0.7152, 0.0722} {
		v, _ := strconv.ParseUint(hex[2*i:2*i+2], 16, 8)
		c := float64(v) / 255
		if c <= 0.03928 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		l += weight * c
	}
	return l
}

func TestContrast(t *testing.T) {
	if c := contrast("#000", "#fff"); math.Abs(c-21) > 0.01 {
		t.Errorf("contrast(black, white) = %.2f, want 21", c)
	}
	if c := contrast("#f2b01e", "#ffffff"); c >= 3 {
		t.Errorf("contrast(#f2b01e, white) = %.2f, want below 3 (the old ring)", c)
	}
}

var scrollWrapper = regexp.MustCompile(`<div class="scroll" role="region" aria-label="[^"]+" tabindex="0">\s*$`)

// TestEditorTablesFitNarrowScreens checks that every table of the editor
// pages sits in a container that scrolls sideways, a labelled region a
// keyboard can reach, so that a 390 px wide screen shows the page without
// scrolling it sideways as a whole; and that the layout gives narrow
// screens their full width.
func TestEditorTablesFitNarrowScreens(t *testing.T) {
	tables := 0
	for _, name := range AdminPages {
		raw, err := fs.ReadFile(adminFS, "admin/"+name+".html.tmpl")
		if err != nil {
			t.Fatal(err)
		}
		page := string(raw)
		for i := strings.Index(page, "<table"); i >= 0; i = next(page, "<table", i) {
			tables++
			if !scrollWrapper.MatchString(page[:i]) {
				t.Errorf("admin/%s.html.tmpl: a table outside a scrolling region, at byte %d", name, i)
			}
		}
	}
	if tables == 0 {
		t.Fatal("no tables found")
	}
	rules := styleRules(t, adminFS, "admin/layout.html.tmpl")
	if v := declared(rules, ".scroll", "overflow-x"); v != "auto" {
		t.Errorf(".scroll overflow-x = %q, want auto", v)
	}
	for _, file := range []string{"admin/layout.html.tmpl", "pages/layout.html.tmpl"} {
		fsys := fs.FS(adminFS)
		if strings.HasPrefix(file, "pages/") {
			fsys = embedded
		}
		raw, _ := fs.ReadFile(fsys, file)
		if !strings.Contains(string(raw), `<meta name="viewport" content="width=device-width, initial-scale=1">`) ||
			!strings.Contains(string(raw), "@media (max-width:40rem){") {
			t.Errorf("%s: no viewport or no narrow-screen rules", file)
		}
		if wide := regexp.MustCompile(`(?:^|[;{])(?:min-)?width:\s*(?:[4-9]\d\d|\d{4,})px`).FindString(string(raw)); wide != "" {
			t.Errorf("%s: %q is wider than a 390 px screen", file, wide)
		}
	}
}

// next returns the index of the next sub in s after i, or -1.
func next(s, sub string, i int) int {
	j := strings.Index(s[i+1:], sub)
	if j < 0 {
		return -1
	}
	return i + 1 + j
}
