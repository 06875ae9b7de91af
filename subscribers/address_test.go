package subscribers_test

import (
	"errors"
	"strings"
	"testing"

	"newsletter"
	"newsletter/subscribers"
)

// Strings of exact lengths for the limit cases.
var (
	local64 = strings.Repeat("a", 64)
	local65 = strings.Repeat("a", 65)
	label63 = strings.Repeat("l", 63)
	label64 = strings.Repeat("l", 64)
	// mid + ".com" is a 189-byte domain, so local64@domain is 254 bytes.
	mid185 = label63 + "." + strings.Repeat("m", 63) + "." + strings.Repeat("n", 57)
	mid186 = label63 + "." + strings.Repeat("m", 63) + "." + strings.Repeat("n", 58)
	// mid + ".bücher.de" (xn--bcher-kva.de after IDNA) is a 189 or 190-byte
	// domain, though only 183 or 184 bytes as typed.
	idnMid172 = label63 + "." + strings.Repeat("m", 63) + "." + strings.Repeat("n", 44)
	idnMid173 = label63 + "." + strings.Repeat("m", 63) + "." + strings.Repeat("n", 45)
)

// addressCases is the table TestNormalizeAddress runs and
// FuzzNormalizeAddress seeds its corpus from. want is the normalized address,
// or "" when an error is expected; suggestion is the error's Suggestion.
var addressCases = []struct {
	name       string
	in         string
	want       string
	suggestion string
}{
	// Accepted.
	{"plain", "bob@example.org", "bob@example.org", ""},
	{"dotted local", "bob.smith@example.org", "bob.smith@example.org", ""},
	{"plus tag", "bob+news@example.org", "bob+news@example.org", ""},
	{"every atext char", "!#$%&'*+-/=?^_`{|}~@example.org", "!#$%&'*+-/=?^_`{|}~@example.org", ""},
	{"digits everywhere", "007@123.example.com", "007@123.example.com", ""},
	{"subdomains", "bob@mail.sub.example.co.uk", "bob@mail.sub.example.co.uk", ""},
	{"hyphen inside label", "bob@my-example.org", "bob@my-example.org", ""},
	{"local case kept domain lowered", "Bob.Smith@Example.ORG", "Bob.Smith@example.org", ""},
	{"outer spaces trimmed", "  bob@example.org  ", "bob@example.org", ""},
	{"outer tab and newline trimmed", "\tbob@example.org\r\n", "bob@example.org", ""},
	{"outer unicode spaces trimmed", "\u00a0bob@example.org\u3000", "bob@example.org", ""},
	{"real yahoo.co.uk", "bob@yahoo.co.uk", "bob@yahoo.co.uk", ""},
	{"real gmail", "bob@gmail.com", "bob@gmail.com", ""},
	{"local 64 bytes", local64 + "@example.org", local64 + "@example.org", ""},
	{"address 254 bytes", local64 + "@" + mid185 + ".com", local64 + "@" + mid185 + ".com", ""},
	{"label 63 chars", "bob@" + label63 + ".com", "bob@" + label63 + ".com", ""},
	{"idn german", "user@bücher.de", "user@xn--bcher-kva.de", ""},
	{"idn german upper case", "user@BÜCHER.DE", "user@xn--bcher-kva.de", ""},
	{"idn cyrillic", "user@пример.рф", "user@xn--e1afmkfd.xn--p1ai", ""},
	{"idn japanese", "user@例え.jp", "user@xn--r8jz45g.jp", ""},
	{"idn sharp s kept", "user@faß.de", "user@xn--fa-hia.de", ""},
	{"idn already punycode", "user@XN--BCHER-KVA.de", "user@xn--bcher-kva.de", ""},
	{"idn fullwidth mapped", "user@ｅｘａｍｐｌｅ.com", "user@example.com", ""},
	{"idn 254 bytes after conversion", local64 + "@" + idnMid172 + ".bücher.de", local64 + "@" + idnMid172 + ".xn--bcher-kva.de", ""},

	// Refused: shape of the address.
	{"empty", "", "", ""},
	{"only spaces", "   ", "", ""},
	{"no at", "bob.example.org", "", ""},
	{"only at", "@", "", ""},
	{"empty local", "@example.org", "", ""},
	{"empty domain", "bob@", "", ""},
	{"two ats", "bob@smith@example.org", "", ""},
	{"fullwidth at", "bob＠example.org", "", ""},
	{"display name", "Bob <bob@example.org>", "", ""},
	{"angle brackets", "<bob@example.org>", "", ""},
	{"comment in local", "bob(c)@example.org", "", ""},
	{"comment in domain", "bob@example.org(c)", "", ""},
	{"quoted local", `"bob"@example.org`, "", ""},
	{"quoted local with space", `"bob smith"@example.org`, "", ""},
	{"space inside local", "bob smith@example.org", "", ""},
	{"space inside domain", "bob@exam ple.org", "", ""},
	{"tab inside", "bob\t@example.org", "", ""},
	{"nbsp inside", "bob\u00a0@example.org", "", ""},
	{"nul at end", "bob@example.org\x00", "", ""},
	{"control inside", "bob\x7f@example.org", "", ""},
	{"invalid utf8", "bob@ex\xffample.org", "", ""},

	// Refused: local part.
	{"local 65 bytes", local65 + "@example.org", "", ""},
	{"local leading dot", ".bob@example.org", "", ""},
	{"local trailing dot", "bob.@example.org", "", ""},
	{"local double dot", "bob..smith@example.org", "", ""},
	{"local comma", "bob,smith@example.org", "", ""},
	{"local backslash", `bob\@example.org`, "", ""},
	{"local colon", "bob:smith@example.org", "", ""},
	{"local brackets", "bob[1]@example.org", "", ""},
	{"local non-ascii", "müller@example.de", "", ""},
	{"local non-ascii idn domain", "用户@例え.jp", "", ""},

	// Refused: domain.
	{"address 255 bytes", local64 + "@" + mid186 + ".com", "", ""},
	{"idn 255 bytes after conversion", local64 + "@" + idnMid173 + ".bücher.de", "", ""},
	{"label 64 chars", "bob@" + label64 + ".com", "", ""},
	{"no dot in domain", "bob@localhost", "", ""},
	{"trailing dot", "bob@example.org.", "", ""},
	{"trailing ideographic full stop", "bob@example.org。", "", ""},
	{"leading dot", "bob@.example.org", "", ""},
	{"double dot", "bob@example..org", "", ""},
	{"label leading hyphen", "bob@-example.org", "", ""},
	{"label trailing hyphen", "bob@example-.org", "", ""},
	{"hyphens at 3 and 4", "bob@ab--cd.org", "", ""},
	{"underscore", "bob@ex_ample.org", "", ""},
	{"bad punycode", "bob@xn--zz.org", "", ""},
	{"ip literal", "bob@[127.0.0.1]", "", ""},
	{"ipv6 literal", "bob@[IPv6:::1]", "", ""},
	{"bare ip", "bob@127.0.0.1", "", ""},
	{"numeric tld", "bob@example.123", "", ""},

	// Refused with a suggestion: typo domains.
	{"typo gmial", "name@gmial.com", "", "name@gmail.com"},
	{"typo gmail.con keeps local case", "Name.Surname@GMAIL.CON", "", "Name.Surname@gmail.com"},
	{"typo gmail.cm", "name@gmail.cm", "", "name@gmail.com"},
	{"typo gamil trimmed", "  name@gamil.com ", "", "name@gmail.com"},
	{"typo hotmial", "jane@hotmial.com", "", "jane@hotmail.com"},
	{"typo hotmail.co", "jane@hotmail.co", "", "jane@hotmail.com"},
	{"typo yahoo.co", "joe@yahoo.co", "", "joe@yahoo.com"},
	{"typo yahooo", "joe@yahooo.com", "", "joe@yahoo.com"},
	{"typo outlok", "ann@outlok.com", "", "ann@outlook.com"},
	{"typo iclod", "ann@iclod.com", "", "ann@icloud.com"},
	{"typo aol.con", "ann@aol.con", "", "ann@aol.com"},
	{"typo protonmial", "ann+x@protonmial.com", "", "ann+x@protonmail.com"},
}

func TestNormalizeAddress(t *testing.T) {
	for _, tc := range addressCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := subscribers.NormalizeAddress(tc.in)
			if tc.want != "" {
				if err != nil {
					t.Fatalf("NormalizeAddress(%q) error = %v, want %q", tc.in, err, tc.want)
				}
				if got != tc.want {
					t.Fatalf("NormalizeAddress(%q) = %q, want %q", tc.in, got, tc.want)
				}
				return
			}
			if got != "" {
				t.Fatalf("NormalizeAddress(%q) = %q, want an error", tc.in, got)
			}
			var e *newsletter.Error
			if !errors.As(err, &e) {
				t.Fatalf("NormalizeAddress(%q) error = %v, want a *newsletter.Error", tc.in, err)
			}
			if e.Code != newsletter.EINVALIDEMAIL {
				t.Fatalf("NormalizeAddress(%q) code = %q, want %q", tc.in, e.Code, newsletter.EINVALIDEMAIL)
			}
			if e.Message != subscribers.InvalidEmailMessage {
				t.Fatalf("NormalizeAddress(%q) message = %q, want %q", tc.in, e.Message, subscribers.InvalidEmailMessage)
			}
			if e.Field != "email" {
				t.Fatalf("NormalizeAddress(%q) field = %q, want %q", tc.in, e.Field, "email")
			}
			if e.Suggestion != tc.suggestion {
				t.Fatalf("NormalizeAddress(%q) suggestion = %q, want %q", tc.in, e.Suggestion, tc.suggestion)
			}
		})
	}
}

func TestAddressKey(t *testing.T) {
	cases := []struct {
		in   string
		want string
	}{
		{"bob@example.org", "bob@example.org"},
		{"Bob@example.org", "bob@example.org"},
		{"BOB.Smith+News@example.org", "bob.smith+news@example.org"},
		{"user@xn--bcher-kva.de", "user@xn--bcher-kva.de"},
	}
	for _, tc := range cases {
		if got := subscribers.AddressKey(tc.in); got != tc.want {
			t.Fatalf("AddressKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}

	// Two spellings of one mailbox share a key once normalized.
	a, err := subscribers.NormalizeAddress("Bob@Example.org")
	if err != nil {
		t.Fatalf("NormalizeAddress: %v", err)
	}
	b, err := subscribers.NormalizeAddress(" bob@EXAMPLE.ORG ")
	if err != nil {
		t.Fatalf("NormalizeAddress: %v", err)
	}
	if subscribers.AddressKey(a) != subscribers.AddressKey(b) {
		t.Fatalf("AddressKey(%q) = %q, AddressKey(%q) = %q, want equal",
			a, subscribers.AddressKey(a), b, subscribers.AddressKey(b))
	}
}

func BenchmarkNormalizeAddress(b *testing.B) {
	inputs := []string{
		"bob@example.org",
		"  Bob.Smith+news@Example.ORG ",
		"user@bücher.de",
		"name@gmial.com",
		"Bob <bob@example.org>",
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, in := range inputs {
			_, _ = subscribers.NormalizeAddress(in)
		}
	}
}
