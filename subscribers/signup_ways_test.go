package subscribers_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter"
	"newsletter/internal/redistest"
	"newsletter/subscribers"
)

// TestNewAddressWaysWriteTheSame signs new addresses up the way a new
// address takes (newAddressScript, with values worked out in Go) and the
// general way (signupScript), each on an empty database with the same
// ids: the two databases hold the same keys and values afterwards
// (subscribers, index, audiences, outbox, consent dictionary, the
// address's limit record), and the scripts answer the same. The cases
// cover every kind of consent value the dictionary treats apart, a second
// signup whose values the dictionary holds already, a suppressed address,
// an address whose limit is used up, and the site's limit refusing.
func TestNewAddressWaysWriteTheSame(t *testing.T) {
	at := time.Date(2026, 12, 6, 15, 4, 5, 0, time.UTC)
	base := subscribers.Consent{Action: subscribers.ActionSignup, Newsletters: []string{"daily", "weekly"}, At: at, IP: "203.0.113.5",
		UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
		Source:    "https://news.example/world/2026/12/06/story", Wording: "v3"}
	with := func(f func(c *subscribers.Consent)) subscribers.Consent {
		c := base
		f(&c)
		return c
	}
	cases := []struct {
		name     string
		consents []subscribers.Consent // one signup each, of addresses in one partition
		siteOK   bool
		before   func(t *testing.T, rdb *redis.Client, addrs []string)
		plusTags bool    // the addresses are one mailbox's spellings (reader+1@, reader+2@): its limit allows one email
		last     []int64 // the answer to the last signup: {refusing limit, email sent, id taken}
	}{
		{name: "email", consents: []subscribers.Consent{base}, siteOK: true, last: []int64{0, 1, 1}},
		{name: "site refuses", consents: []subscribers.Consent{base}, siteOK: false, last: []int64{3, 0, 1}},
		{name: "dictionary holds the values", consents: []subscribers.Consent{base, base, with(func(c *subscribers.Consent) { c.Source = "" })}, siteOK: true, last: []int64{0, 1, 1}},
		{name: "values apart", siteOK: true, last: []int64{0, 1, 1}, consents: []subscribers.Consent{
			with(func(c *subscribers.Consent) { c.UserAgent, c.Source = "", "" }),
			with(func(c *subscribers.Consent) { c.Source = "mailto:someone@example.org" }),
			with(func(c *subscribers.Consent) { c.UserAgent, c.Source = strings.Repeat("a", 40), strings.Repeat("a", 40) }),
			with(func(c *subscribers.Consent) { c.UserAgent, c.Source = strings.Repeat("b", 41), strings.Repeat("b", 41) }),
			with(func(c *subscribers.Consent) {
				c.Newsletters = []string{"weekly"}
				c.UserAgent = "curl/8.5 \x00 tab\tnew\nline"
			}),
		}},
		{name: "suppressed", consents: []subscribers.Consent{base}, siteOK: true, last: []int64{0, 0, 1},
			before: func(t *testing.T, rdb *redis.Client, addrs []string) {
				if err := subscribers.NewStore(rdb).Suppress(context.Background(), addrs[0], "complaint", "test", at); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "address limit used up", siteOK: true, consents: []subscribers.Consent{base, base}, plusTags: true, last: []int64{1, 0, 1}},
	}
	for _, tc := range cases {
		addrs := subscribers.AddressesInOnePartition("Reader.One-"+strings.ReplaceAll(tc.name, " ", "-"), len(tc.consents))
		if tc.plusTags {
			for i := range addrs {
				addrs[i] = fmt.Sprintf("reader.two+%d@example.org", i)
			}
		}
		dumps := map[bool]map[string]string{}
		answers := map[bool][][]int64{}
		for _, fresh := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/new_address_way=%v", tc.name, fresh), func(t *testing.T) {
				rdb := redistest.Client(t)
				if tc.before != nil {
					tc.before(t, rdb, addrs)
				}
				s := subscribers.NewStore(rdb)
				for i, c := range tc.consents {
					id := int64((7+i)*newsletter.Partitions) + int64(subscribers.PartitionOf(addrs[i]))
					res, err := subscribers.SignupScriptWay(s, id, fresh, addrs[i], c.Newsletters, c, "Reader One", tc.siteOK)
					if err != nil {
						t.Fatal(err)
					}
					answers[fresh] = append(answers[fresh], res)
				}
				dumps[fresh] = MustDumpDB(t, rdb)
			})
		}
		if len(answers[true]) != len(tc.consents) || len(answers[false]) != len(tc.consents) {
			t.Fatalf("%s: %d and %d answers for %d signups", tc.name, len(answers[true]), len(answers[false]), len(tc.consents))
		}
		if got := answers[true][len(answers[true])-1]; !slices.Equal(got, tc.last) {
			t.Errorf("%s: the last signup was answered %v, want %v", tc.name, got, tc.last)
		}
		if !slices.EqualFunc(answers[true], answers[false], slices.Equal) {
			t.Errorf("%s: the new address's way answered %v, the general way %v", tc.name, answers[true], answers[false])
		}
		short, general := dumps[true], dumps[false]
		if len(short) < 4 {
			t.Fatalf("%s: the new address's way wrote only %d keys: %v", tc.name, len(short), short)
		}
		for key, v := range general {
			if short[key] != v {
				t.Errorf("%s: %s\n new address's way: %q\n general way:       %q", tc.name, key, short[key], v)
			}
		}
		for key := range short {
			if _, ok := general[key]; !ok {
				t.Errorf("%s: only the new address's way wrote %s", tc.name, key)
			}
		}
	}
}
