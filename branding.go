package newsletter

import (
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Limits on a newsletter's branding.
const (
	maxLogoURLLen    = 2048
	maxFooterTextLen = 500
	// minAccentContrast is the contrast an accent colour must have against
	// the white of the emails' card, as text and as a button's background
	// under white text (WCAG 2.2, 1.4.3).
	minAccentContrast = 4.5
)

var accentColor = regexp.MustCompile(`^#[0-9a-f]{6}$`)

// normalizeBranding trims the branding fields and writes the accent
// colour in lower case.
func (n *Newsletter) normalizeBranding() {
	n.LogoURL = strings.TrimSpace(n.LogoURL)
	n.AccentColor = strings.ToLower(strings.TrimSpace(n.AccentColor))
	n.FooterText = strings.TrimSpace(n.FooterText)
}

func checkLogoURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || len(raw) > maxLogoURLLen {
		return "A logo is an https:// URL of at most " + strconv.Itoa(maxLogoURLLen) + " characters."
	}
	return ""
}

func checkAccent(c string) string {
	if c == "" {
		return ""
	}
	if !accentColor.MatchString(c) {
		return `An accent colour is written "#rrggbb", such as "#a4000f".`
	}
	if contrastWithWhite(c) < minAccentContrast {
		return "The accent colour is too light: white text on it, and it on white, must have a contrast of at least 4.5:1."
	}
	return ""
}

func checkFooterText(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		return "The footer text is one line."
	}
	return checkLen(s, maxFooterTextLen)
}

// contrastWithWhite returns the WCAG contrast ratio of hex, "#rrggbb",
// against white.
func contrastWithWhite(hex string) float64 {
	var l float64
	for i, weight := range []float64{0.2126, 0.7152, 0.0722} {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.03928 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		l += weight * c
	}
	return 1.05 / (l + 0.05)
}
