package subscribers_test

import (
	"strings"
	"testing"

	"newsletter/subscribers"
)

func TestMailboxKey(t *testing.T) {
	for addr, want := range map[string]string{
		"victim@example.org":              "victim@example.org",
		"Victim+1@Example.org":            "victim@example.org",
		"victim+news+x@example.org":       "victim@example.org",
		"v.ictim.box@gmail.com":           "victimbox@gmail.com",
		"V.I.C.T.I.M.BOX+promo@gmail.com": "victimbox@gmail.com",
		"victimbox@googlemail.com":        "victimbox@gmail.com",
		"first.last@example.org":          "first.last@example.org", // dots count elsewhere
		"+tag@example.org":                "+tag@example.org",       // no mailbox before the tag
		"...@gmail.com":                   "...@gmail.com",
	} {
		if got := subscribers.MailboxKey(addr); got != want {
			t.Errorf("MailboxKey(%q) = %q, want %q", addr, got, want)
		}
		if subscribers.PartitionOf(addr) != subscribers.PartitionOf(want) {
			t.Errorf("%q and %q are in different partitions", addr, want)
		}
	}
}

// FuzzMailboxKey: the mailbox key of a normalized address is stable (the
// key of a key is itself), lower case, keeps the domain's part after the @
// (but for googlemail.com), and every spelling of a mailbox shares its
// partition.
func FuzzMailboxKey(f *testing.F) {
	for _, s := range []string{"a@example.org", "A.B+c@Gmail.com", "x+y@googlemail.com", "+@x.org", "é+1@bücher.de"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		addr, err := subscribers.NormalizeAddress(raw)
		if err != nil {
			return
		}
		key := subscribers.MailboxKey(addr)
		if again := subscribers.MailboxKey(key); again != key {
			t.Fatalf("MailboxKey(%q) = %q, but MailboxKey(%q) = %q", addr, key, key, again)
		}
		if key != strings.ToLower(key) || strings.Count(key, "@") != 1 {
			t.Fatalf("MailboxKey(%q) = %q", addr, key)
		}
		if subscribers.PartitionOf(addr) != subscribers.PartitionOf(key) {
			t.Fatalf("%q and its mailbox %q are in different partitions", addr, key)
		}
	})
}
