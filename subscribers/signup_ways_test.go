package subscribers_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"newsletter"
	"newsletter/internal/redistest"
	"newsletter/subscribers"
)

// TestNewAddressWaysWriteTheSame signs a new address up the short way the
// signup script has for new addresses and the general way, each on an
// empty database with the same id: the two databases hold the same keys
// and values afterwards (subscriber, index, audiences, outbox, consent
// dictionary, the address's limit record), and the script answers the
// same, with an email sent and with the site's limit refusing it.
func TestNewAddressWaysWriteTheSame(t *testing.T) {
	addr := "Reader.One+news@example.org"
	id := int64(7*newsletter.Partitions) + int64(subscribers.PartitionOf(addr))
	at := time.Date(2026, 12, 6, 15, 4, 5, 0, time.UTC)
	c := subscribers.Consent{Action: subscribers.ActionSignup, Newsletters: []string{"daily", "weekly"}, At: at, IP: "203.0.113.5",
		UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
		Source:    "https://news.example/world/2026/12/06/story", Wording: "v3"}
	for _, siteOK := range []bool{true, false} {
		dumps := map[bool]map[string]string{}
		answers := map[bool][]int64{}
		for _, reserved := range []bool{true, false} {
			t.Run(fmt.Sprintf("site_ok=%v/short=%v", siteOK, reserved), func(t *testing.T) {
				rdb := redistest.Client(t)
				res, err := subscribers.SignupScriptWay(subscribers.NewStore(rdb), id, reserved, addr, c.Newsletters, c, "Reader One", siteOK)
				if err != nil {
					t.Fatal(err)
				}
				answers[reserved], dumps[reserved] = res, MustDumpDB(t, rdb)
			})
		}
		if !slices.Equal(answers[true], answers[false]) {
			t.Errorf("site_ok=%v: the short way answered %v, the general way %v", siteOK, answers[true], answers[false])
		}
		short, general := dumps[true], dumps[false]
		if len(short) < 5 {
			t.Fatalf("site_ok=%v: the short way wrote only %d keys: %v", siteOK, len(short), short)
		}
		for key, v := range general {
			if short[key] != v {
				t.Errorf("site_ok=%v: %s\n short way:   %q\n general way: %q", siteOK, key, short[key], v)
			}
		}
		for key := range short {
			if _, ok := general[key]; !ok {
				t.Errorf("site_ok=%v: only the short way wrote %s", siteOK, key)
			}
		}
	}
}
