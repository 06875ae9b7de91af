package subscribers

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter"
	"newsletter/throttle"
)

// A signup takes two round trips, each touching one slot, and more now
// and then:
//
//  1. a pipeline: take the signup from the client's limit and a
//     confirmation email from the site's (the gate, gate.go: one script
//     for the signups sent together), and, when this process runs low on
//     ids in the address's partition, reserve the next block there
//     (idPool); with no limits and ids enough, this round trip is skipped;
//  2. newAddressScript does the signup of a new address in its partition,
//     as one atomic step, with an id reserved for it; when the address
//     had an id, it changes nothing and says so, and signupScript does the
//     signup with that id in a third round trip;
//  3. when the site's slot was taken but no email went out, it is given
//     back.
//
// createScript is import's way to give an address an id.

// createScript finds or creates the subscriber id of the address with
// AddressKey ARGV[1] in partition ARGV[2] (KEYS: index, next). An id made
// here holds nothing yet.
var createScript = redis.NewScript(`
local id = redis.call('HGET', KEYS[1], ARGV[1])
if id then return tonumber(id) end
id = redis.call('INCR', KEYS[2]) * ` + strconv.Itoa(newsletter.Partitions) + ` + tonumber(ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], id)
return id
`)

// signupScript is a signup in the address's partition, in one atomic step:
//
//  1. find the address's id in the index; a new address takes the id
//     ARGV gives (reserved for it) and its record is filled in; an address
//     whose id is not the one the keys were built for returns {-1, id},
//     and the caller runs the script again with that id's keys;
//  2. subscribe it to each newsletter (as transition "subscribe" does,
//     but read in one HMGET and written in one HSET with the rest);
//  3. if some newsletter is not confirmed and the address is not
//     suppressed, take a confirmation email from the address's limits
//     (throttle.LuaAllowEach); the site's limit was taken before, and
//     site_ok says whether it allowed;
//  4. if a subscription changed or an email goes out, append the consent
//     record; if an email goes out, number its token (field tn), note the
//     link on each subscription it confirms, keep the name given for the
//     confirmation, and append the email to the partition's confirmation
//     outbox (RelayConfirmations).
//
// A signup first tries the id reserved for the address as a new one with
// newAddressScript, which does the same steps for an address with no
// record yet, and runs this script only when the address had an id.
//
// It returns {position of the limit that refused (0: none), 1 if an email
// went out, 1 if the id given was taken}, the address's limits counting
// first.
//
// KEYS: the signupKey* positions, then the pending, confirmed and
// unsubscribed audiences of each newsletter, in ARGV's order.
// ARGV: the argv* positions, then window and limit of each of the
// address's limits.
var signupScript = redis.NewScript(signupLua)

var signupLua = luaTransition + throttle.LuaAllowEach + luaConsent + `
local id, addr_key, addr, now, now_ms = ` + argv(argvID) + `, ` + argv(argvAddrKey) + `, ` + argv(argvAddr) + `, ` + argv(argvNow) + `, ` + argv(argvNowMs) + `
local nls, name, outbox, site_ok = ` + argv(argvNewsletters) + `, ` + argv(argvName) + `, ` + argv(argvOutbox) + `, ` + argv(argvSiteOK) + `
local address, address_ttl, windows = ` + argv(argvAddress) + `, ` + argv(argvAddress+1) + `, {}
for i = ` + strconv.Itoa(argvAddressWindow+1) + `, #ARGV, 2 do windows[#windows + 1] = {ARGV[i], ARGV[i + 1]} end
local h, index, fresh = ` + key(signupKeySubscriber) + `, ` + key(signupKeyIndex) + `, false
local known = redis.call('HGET', index, addr_key)
if known and known ~= id then return {-1, tonumber(known), 0} end
local bit = ` + argv(argvBit) + `
local function decide()
  if redis.call('HEXISTS', ` + key(signupKeySuppressed) + `, ` + argv(argvMailboxKey) + `) == 1 then return 0, 0 end
  if address ~= '' then
    local r = allow_each(` + key(signupKeyAddressLimit) + `, now_ms, windows, address_ttl)
    if r[2] > 0 then return 0, r[2] end
  end
  if site_ok == '0' then return 0, #windows + 1 end
  return 1, 0
end
local list, fields = {}, {'` + fieldTokenSeq + `'}
for nl in string.gmatch(nls, '[^,]+') do
  list[#list + 1] = nl
  fields[#fields + 1] = '` + prefixSubscription + `' .. nl
end
local cur = {}
if known then cur = redis.call('HMGET', h, unpack(fields)) else fresh = true end
local seq = tonumber(cur[1] or '0') + 1
local subs, unconfirmed, changed = {}, {}, false
for i, nl in ipairs(list) do
  local st, w, sa, ca, ua, begin, link = parse_sub(cur[i + 1])
  local sub = {nl = nl, prev = st, w = w, sa = sa, ca = ca, ua = ua, begin = begin, link = link, k = ` + strconv.Itoa(signupKeyAudiences) + ` + (i - 1) * 3}
  if st == '' or st == 'unsubscribed' then
    sub.st, sub.sa, sub.ca, sub.ua, sub.begin, sub.link, changed = 'pending', now, '0', '0', tostring(seq), '0', true
  else
    sub.st = st
  end
  if st ~= 'confirmed' then unconfirmed[#unconfirmed + 1] = sub end
  subs[i] = sub
end
local send, refused = 0, 0
if #unconfirmed > 0 then send, refused = decide() end
local set = {}
if fresh then
  redis.call('HSET', index, addr_key, id)
  set[#set + 1], set[#set + 2] = '` + fieldEmail + `', addr
end
for _, sub in ipairs(subs) do
  if send == 1 and sub.st == 'pending' then sub.link, sub.dirty = now, true end
  if sub.st ~= sub.prev or sub.dirty then
    set[#set + 1] = '` + prefixSubscription + `' .. sub.nl
    set[#set + 1] = format_sub(sub.st, sub.w, sub.sa, sub.ca, sub.ua, sub.begin, sub.link)
  end
  if sub.st ~= sub.prev then
    local aud = {pending = KEYS[sub.k + 1], confirmed = KEYS[sub.k + 2], unsubscribed = KEYS[sub.k + 3]}
    if sub.prev ~= '' then clearbit(aud[sub.prev], bit) end
    redis.call('SETBIT', aud[sub.st], bit, 1)
  end
end
if changed or send == 1 then
  local f, v = consent_field(h, ` + key(signupKeyDict) + `, fresh, 's', now, ` + argv(argvIP) + `, ` + argv(argvUserAgent) + `, ` + argv(argvSource) + `, ` + argv(argvWording) + `, nls)
  set[#set + 1], set[#set + 2] = f, v
end
if send == 1 then
  set[#set + 1], set[#set + 2] = '` + fieldTokenSeq + `', seq
  if name ~= '' then set[#set + 1], set[#set + 2] = '` + fieldPendingName + `', name end
  local names = {}
  for i, sub in ipairs(unconfirmed) do names[i] = sub.nl end
  redis.call('RPUSH', ` + key(signupKeyOutbox) + `, id .. '\n' .. table.concat(names, ',') .. '\n' .. seq .. ' ' .. now .. '\n' .. outbox)
end
if #set > 0 then redis.call('HSET', h, unpack(set)) end
local taken = 0
if fresh then taken = 1 end
return {refused, send, taken}
`

// The positions of signupScript's keys (from 0 here, from 1 in Lua).
const (
	signupKeySubscriber   = iota // the subscriber's hash
	signupKeyIndex               // the partition's index
	signupKeyDict                // the partition's dictionary of consent values
	signupKeyOutbox              // the partition's confirmation outbox
	signupKeySuppressed          // the partition's suppression hash
	signupKeyAddressLimit        // the address's confirmation limits (a key of the partition when there are none)
	signupKeyAudiences           // then three audiences per newsletter
)

// The positions of signupScript's arguments (from 0 here, from 1 in Lua).
// The address's limits are a key ("" for none; the key itself is
// signupKeyAddressLimit), the longest window in milliseconds, and then
// window and limit for each of them (throttle.Windows.Spec), as many as
// there are.
const (
	argvID            = iota // the subscriber id: the address's, or the one reserved for a new address
	argvBit                  // its bit in the partition's audiences
	argvAddrKey              // AddressKey of the address
	argvMailboxKey           // its MailboxKey, for the suppression list
	argvAddr                 // the address
	argvNow                  // unix seconds
	argvNowMs                // unix milliseconds, for the limits
	argvNewsletters          // newsletter ids, comma separated
	argvIP                   // the consent record's IP,
	argvUserAgent            // user agent,
	argvSource               // source
	argvWording              // and wording version
	argvName                 // the name the email greets
	argvOutbox               // the confirmation email's outboxPayload, JSON
	argvSiteOK               // "1" when the site's limit allowed an email, else "0"
	argvAddress              // 2: "1" when the address has limits, and the longest window; then their windows
	argvAddressWindow = argvAddress + 2
)

// argv is the Lua expression for signupScript's argument at position i.
func argv(i int) string { return "ARGV[" + strconv.Itoa(i+1) + "]" }

// key is the Lua expression for signupScript's key at position i.
func key(i int) string { return "KEYS[" + strconv.Itoa(i+1) + "]" }

// signupLimits are the limits a signup takes from.
type signupLimits struct {
	client  []*windowArgs // the client's signup limits: its own, its network's
	site    *windowArgs   // the site's confirmation limit (nil: none)
	address *eachArgs     // the address's confirmation limits (nil: none)
}

// windowArgs are one throttle.Window's arguments.
type windowArgs struct {
	key    string
	window int64
	limit  int
	member string
}

// eachArgs are throttle.Windows' arguments for allow_each.
type eachArgs struct {
	key     string
	windows []int64 // window ms and limit, alternately
	ttl     int64
}

// signupResult is what a signup found and did.
type signupResult struct {
	id      int64
	refused int           // the position in the limits of the one that held the email back, or -1
	sent    bool          // an email went into the outbox
	wait    time.Duration // > 0: the client's limit refused, and nothing was done
}

// signupInput is what a signup stores: the consent record to keep, the
// limits to take from, and the name and outbox payload to store when an
// email goes out.
type signupInput struct {
	addr    string
	mailbox string               // MailboxKey(addr)
	part    newsletter.Partition // partitionOfMailbox(mailbox)
	nls     []string
	now     time.Time
	consent Consent
	limits  signupLimits
	name    string
	outbox  []byte
}

// signup runs a signup of in.addr, in the round trips described above.
func (s *Store) signup(ctx context.Context, in signupInput) (signupResult, error) {
	p := in.part
	id, wait, siteTaken, err := s.signupGate(ctx, in, p)
	if err != nil || wait > 0 {
		return signupResult{wait: wait}, err
	}
	siteOK := in.limits.site == nil || siteTaken
	fresh := true
	for range 3 {
		res, err := s.runSignupScript(ctx, id, fresh, in, siteOK)
		if err != nil { // the id is not given back: the script may have taken it
			return signupResult{}, s.giveBackSite(ctx, in.limits.site, siteTaken, err)
		}
		if fresh && idUnused(res, id) {
			s.ids.giveBack(p, id) // the address had an id already
		}
		if res[0] == -1 { // the address has this id
			id, fresh = res[1], false
			continue
		}
		r := signupResult{id: id, refused: int(res[0]) - 1, sent: res[1] == 1}
		if !r.sent {
			err = s.giveBackSite(ctx, in.limits.site, siteTaken, nil)
		}
		return r, err
	}
	return signupResult{}, s.giveBackSite(ctx, in.limits.site, siteTaken, errors.New("the address's id kept changing"))
}

// idUnused reports whether newAddressScript's answer res says that id,
// reserved for the address, was not taken: the address had another id.
// An id the script took in an earlier run (the client sent it again after
// losing the answer) is the address's now and must not be handed out
// again.
func idUnused(res []int64, id int64) bool { return res[0] == -1 && res[2] == 0 && res[1] != id }

// runSignupScript runs newAddressScript with the id reserved for a new
// address (fresh), or signupScript with the address's own id, sent
// together with other signups' commands (groupCommit).
func (s *Store) runSignupScript(ctx context.Context, id int64, fresh bool, in signupInput, siteOK bool) ([]int64, error) {
	var args []any
	lua := signupLua
	if fresh {
		args, lua = newAddressCommand(id, in, siteOK), newAddressLua
	} else {
		args = signupCommand(id, in, siteOK)
	}
	var cmd *redis.Cmd
	if err := s.group.do(ctx, nil, func(p redis.Pipeliner) { cmd = p.Do(ctx, args...) }); err != nil {
		return nil, err
	}
	if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") { // Redis restarted: send the script's text
		args[0], args[1] = "eval", lua
		cmd = s.rdb.Do(ctx, args...)
	}
	return cmd.Int64Slice()
}

// giveBackSite gives back the site's slot a signup took without sending,
// and returns err (or the give-back's error when err is nil).
func (s *Store) giveBackSite(ctx context.Context, site *windowArgs, taken bool, err error) error {
	if !taken {
		return err
	}
	gerr := s.rdb.ZRem(context.WithoutCancel(ctx), site.key, site.member).Err()
	if err == nil {
		return gerr
	}
	return err
}

// flag is "1" for true and "0" for false, as the scripts take them.
func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// signupCommand is the EVALSHA of signupScript for subscriber id: the
// script's keys and arguments laid out in one slice, the partition's keys
// boxed once for all signups.
func signupCommand(id int64, in signupInput, siteOK bool) []any {
	p := newsletter.PartitionOf(id)
	pk := &signupKeysOf[p]
	nkeys := signupKeyAudiences + 3*len(in.nls)
	cmd := make([]any, 3+nkeys+argvAddressWindow, 3+nkeys+argvAddressWindow+4)
	cmd[0], cmd[1], cmd[2] = "evalsha", signupScript.Hash(), nkeys
	keys, args := cmd[3:3+nkeys], cmd[3+nkeys:]
	keys[signupKeySubscriber], keys[signupKeyIndex], keys[signupKeyDict] = keySubscriber(id), pk.index, pk.dict
	keys[signupKeyOutbox], keys[signupKeySuppressed] = pk.outbox, pk.suppressed
	keys[signupKeyAddressLimit] = pk.next // a key of the partition when there are no limits
	for i, nl := range in.nls {
		aud := audienceKeysBoxed(nl, p)
		copy(keys[signupKeyAudiences+3*i:], aud[:])
	}
	c := cleanConsent(in.consent)
	args[argvID], args[argvBit], args[argvAddrKey], args[argvAddr] = id, newsletter.BitOf(id), AddressKey(in.addr), in.addr
	args[argvMailboxKey] = in.mailbox
	args[argvNow], args[argvNowMs], args[argvNewsletters] = in.now.Unix(), in.now.UnixMilli(), strings.Join(in.nls, ",")
	args[argvIP], args[argvUserAgent], args[argvSource], args[argvWording] = c.IP, c.UserAgent, c.Source, c.Wording
	args[argvName], args[argvOutbox] = in.name, in.outbox
	args[argvSiteOK] = flag(siteOK)
	args[argvAddress], args[argvAddress+1] = "", 0
	if a := in.limits.address; a != nil {
		keys[signupKeyAddressLimit] = a.key
		args[argvAddress], args[argvAddress+1] = "1", a.ttl
		for _, v := range a.windows {
			cmd = append(cmd, v)
		}
	}
	return cmd
}

// signupPartitionKeys are the names of a partition's keys that every
// signup there passes to signupScript, boxed for the command's arguments.
type signupPartitionKeys struct{ index, dict, outbox, suppressed, next any }

// signupKeysOf holds each partition's signupPartitionKeys, made once.
var signupKeysOf = func() (t [newsletter.Partitions]signupPartitionKeys) {
	for i := range t {
		p := newsletter.Partition(i)
		t[i] = signupPartitionKeys{index: keyIndex(p), dict: keyDict(p), outbox: keyOutbox(p), suppressed: keySuppressed(p), next: keyNext(p)}
	}
	return t
}()

// audienceKeysBoxed returns audienceKeys(nl, p), boxed, made once per
// newsletter.
func audienceKeysBoxed(nl string, p newsletter.Partition) *[3]any {
	if t, ok := boxedAudiences.Load(nl); ok {
		return &t.(*[newsletter.Partitions][3]any)[p]
	}
	t := new([newsletter.Partitions][3]any)
	for i := range t {
		for j, k := range audienceKeys(nl, newsletter.Partition(i)) {
			t[i][j] = k
		}
	}
	got, _ := boxedAudiences.LoadOrStore(nl, t)
	return &got.(*[newsletter.Partitions][3]any)[p]
}

// boxedAudiences maps a newsletter id to its audiences' keys in every
// partition (audienceKeysBoxed). Newsletters are few and never deleted.
var boxedAudiences sync.Map
