package subscribers

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter"
	"newsletter/throttle"
)

// Keys and rules the external tests look at directly.
var (
	KeySubscriber = keySubscriber
)

// OutboxKeys returns the keys of the confirmation outbox of addr's
// partition: the outbox, its dead list and its relay's lease.
func OutboxKeys(addr string) (outbox, dead, relay string) {
	p := PartitionOf(addr)
	return keyOutbox(p), keyOutboxDead(p), keyOutboxRelay(p)
}

// AddressesInOnePartition returns n addresses "{prefix}{i}@example.org"
// that share a partition, in order.
func AddressesInOnePartition(prefix string, n int) []string {
	var out []string
	var p newsletter.Partition = -1
	for i := 0; len(out) < n; i++ {
		addr := prefix + strconv.Itoa(i) + "@example.org"
		if p == -1 {
			p = PartitionOf(addr)
		}
		if PartitionOf(addr) == p {
			out = append(out, addr)
		}
	}
	return out
}

// RelayOwner is the name s's relay holds the outboxes' leases under.
func RelayOwner(s *Service) string { return s.relayOwner() }

// SignupScriptWay runs one signup of a new address with subscriber id
// through newAddressScript (fresh) or signupScript, with the contract's
// address limits, and returns the script's answer: what the two ways
// write must be the same.
func SignupScriptWay(s *Store, id int64, fresh bool, addr string, nls []string, c Consent, name string, siteOK bool) ([]int64, error) {
	return s.runSignupScript(context.Background(), id, fresh, testSignupInput(s.rdb, addr, nls, c, name), siteOK)
}

// NewAddressSignupCommand is the EVALSHA of newAddressScript that signs
// addr up as a new address with the id this process would reserve first
// in its partition after n, with an email going out; LoadSignupScript
// loads the script, so that the command finds it.
func NewAddressSignupCommand(rdb redis.UniversalClient, n int64, addr string, nls []string, c Consent, name string) []any {
	id := n*newsletter.Partitions + int64(PartitionOf(addr))
	return newAddressCommand(id, testSignupInput(rdb, addr, nls, c, name), true)
}

// LoadSignupScript loads newAddressScript into Redis.
func LoadSignupScript(rdb redis.UniversalClient) error {
	return newAddressScript.Load(context.Background(), rdb).Err()
}

// testSignupInput is a signup of addr at c.At with the contract's address
// limits, no client or site limit, and an outbox payload of its own.
func testSignupInput(rdb redis.UniversalClient, addr string, nls []string, c Consent, name string) signupInput {
	mailbox := MailboxKey(addr)
	part := partitionOfMailbox(mailbox)
	limits := NewConfirmLimits(rdb, throttle.Rate{N: 1000, Per: time.Minute}).args(mailbox, part)
	return signupInput{addr: addr, mailbox: mailbox, part: part, nls: nls, now: c.At, consent: c, limits: signupLimits{address: limits.address},
		name: name, outbox: []byte(`{"email":"` + addr + `","request_id":"0123456789abcdef"}`)}
}
