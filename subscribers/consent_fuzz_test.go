package subscribers

import (
	"strings"
	"testing"
	"time"
)

// FuzzConsentRecord: a stored consent record (fields k1, k2... of a
// subscriber's hash) of any content decodes without panicking, and a
// record written the way add_consent writes it, from cleaned values,
// decodes back to them.
func FuzzConsentRecord(f *testing.F) {
	f.Add("s\x1f1733475600\x1f203.0.113.77\x1f1\x1f2\x1f1\x1f3", "203.0.113.77", "Mozilla/5.0", "https://news.example/", "1", "daily,weekly")
	f.Add("", "", "", "", "", "")
	f.Add("\x1f\x1f\x1f", "::1", "a@b", "=x", "v2", "a")
	f.Fuzz(func(t *testing.T, raw, ip, ua, source, wording, nls string) {
		decodeConsents(storedConsents(map[string]string{"k1": raw, "k": raw, "kx": raw}), map[string]string{"1": raw})

		c := cleanConsent(Consent{Action: ActionConfirm, At: time.Unix(1733475600, 0).UTC(), IP: ip, UserAgent: ua,
			Source: source, Wording: wording})
		nls = oneLineText(nls, 200)
		dict := map[string]string{}
		stored := func(v string) string { // intern, as luaConsent does
			if v == "" {
				return ""
			}
			if strings.Contains(v, "@") {
				return "=" + v
			}
			n := string(rune('a' + len(dict)))
			dict[n] = v
			return n
		}
		rec := strings.Join([]string{"c", "1733475600", c.IP, stored(c.UserAgent), stored(c.Source), c.Wording, stored(nls)}, consentSep)
		got := decodeConsents(storedConsents(map[string]string{"k1": rec}), dict)
		if len(got) != 1 {
			t.Fatalf("decoded %d records from one", len(got))
		}
		g := got[0]
		if g.Action != ActionConfirm || !g.At.Equal(c.At) || g.IP != c.IP || g.UserAgent != c.UserAgent ||
			g.Source != c.Source || g.Wording != c.Wording || strings.Join(g.Newsletters, ",") != nls {
			t.Fatalf("record %q decoded to %+v, want %+v with newsletters %q", rec, g, c, nls)
		}
	})
}
