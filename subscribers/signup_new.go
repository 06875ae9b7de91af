package subscribers

import (
	"crypto/sha1"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"newsletter"
	"newsletter/throttle"
)

// newAddressScript is a signup with an id reserved for a new address: the
// signup script's steps (signupScript) for an address with no record yet,
// so nothing is read or parsed, and whatever can be worked out before
// Redis is asked (the subscription's value, the consent record but its
// dictionary numbers, the outbox entry) comes in ARGV ready to store.
//
//  1. set the address's id in the partition's index with HSETNX; when the
//     address has one already, return {-1, its id, 1 if that is the id
//     given, else 0}: the caller runs signupScript with it (the id given
//     is the address's when this script ran before, and the client sent
//     it again after losing the answer);
//  2. unless the address is suppressed, take a confirmation email from the
//     address's limits (throttle.LuaAllowEach); site_ok says whether the
//     site's limit allowed one;
//  3. subscribe it to each newsletter, pending, and store its first
//     consent record, its values numbered in the partition's dictionary
//     (added when new) as consent_field does; if an email goes out, note
//     the link on each subscription, number the token 1, keep the name
//     given, and append the email to the partition's confirmation outbox.
//
// It returns {position of the limit that refused (0: none), 1 if an email
// went out, 1}, as signupScript does.
//
// KEYS: signupScript's first keys, up to signupKeyAudiences, then the
// pending audience of each newsletter. ARGV: the newArgv* positions, then
// the subscription field of each newsletter, then window and limit of each
// of the address's limits.
var newAddressScript = redis.NewScript(newAddressLua)

var newAddressLua = throttle.LuaAllowEach + `
local a = ARGV
if redis.call('HSETNX', ` + key(signupKeyIndex) + `, ` + newArgv(newArgvAddrKey) + `, ` + newArgv(newArgvID) + `) == 0 then
  local known = redis.call('HGET', ` + key(signupKeyIndex) + `, ` + newArgv(newArgvAddrKey) + `)
  local mine = 0
  if known == ` + newArgv(newArgvID) + ` then mine = 1 end
  return {-1, tonumber(known), mine}
end
local n = tonumber(` + newArgv(newArgvNewsletters) + `)
local send, refused = 1, 0
if redis.call('HEXISTS', ` + key(signupKeySuppressed) + `, ` + newArgv(newArgvMailboxKey) + `) == 1 then
  send = 0
else
  local windows = {}
  for i = ` + strconv.Itoa(newArgvFields+1) + ` + n, #a, 2 do windows[#windows + 1] = {a[i], a[i + 1]} end
  if ` + newArgv(newArgvAddressTTL) + ` ~= '' then
    local r = allow_each(` + key(signupKeyAddressLimit) + `, ` + newArgv(newArgvNowMs) + `, windows, ` + newArgv(newArgvAddressTTL) + `)
    if r[2] > 0 then send, refused = 0, r[2] end
  end
  if send == 1 and ` + newArgv(newArgvSiteOK) + ` == '0' then send, refused = 0, #windows + 1 end
end
local sub = ` + newArgv(newArgvSubscription) + `
if send == 1 then sub = sub .. ` + newArgv(newArgvLink) + ` end
local set = {'` + fieldEmail + `', ` + newArgv(newArgvAddr) + `}
for i = 1, n do
  set[#set + 1], set[#set + 2] = a[` + strconv.Itoa(newArgvFields) + ` + i], sub
  redis.call('SETBIT', KEYS[` + strconv.Itoa(signupKeyAudiences) + ` + i], ` + newArgv(newArgvBit) + `, 1)
end
local refs, look, at, made = {}, {}, {}, {}
for i = 1, 3 do
  local r = a[` + strconv.Itoa(newArgvRefs) + ` + i]
  refs[i] = r
  local c = string.byte(r)
  if c == 118 or c == 104 then
    look[#look + 1] = r
    at[#look] = i
  end
end
if #look > 0 then
  local found = redis.call('HMGET', ` + key(signupKeyDict) + `, unpack(look))
  for j, key in ipairs(look) do
    local r = found[j] or made[key]
    if not r then
      r = tostring(redis.call('HINCRBY', ` + key(signupKeyDict) + `, '#', 1))
      redis.call('HSET', ` + key(signupKeyDict) + `, key, r, 'i:' .. r, a[` + strconv.Itoa(newArgvValues) + ` + at[j]])
      made[key] = r
    end
    refs[at[j]] = r
  end
end
set[#set + 1] = '` + prefixConsent + `1'
set[#set + 1] = ` + newArgv(newArgvConsent) + ` .. refs[1] .. '` + consentSep + `' .. refs[2] .. '` + consentSep + `' .. ` + newArgv(newArgvWording) + ` .. '` + consentSep + `' .. refs[3]
if send == 1 then
  set[#set + 1], set[#set + 2] = '` + fieldTokenSeq + `', 1
  if ` + newArgv(newArgvName) + ` ~= '' then set[#set + 1], set[#set + 2] = '` + fieldPendingName + `', ` + newArgv(newArgvName) + ` end
  redis.call('RPUSH', ` + key(signupKeyOutbox) + `, ` + newArgv(newArgvOutbox) + `)
end
redis.call('HSET', ` + key(signupKeySubscriber) + `, unpack(set))
return {refused, send, 1}
`

// The positions of newAddressScript's arguments (from 0 here, from 1 in
// Lua).
const (
	newArgvID           = iota // the id reserved for the address
	newArgvBit                 // its bit in the partition's audiences
	newArgvAddrKey             // AddressKey of the address
	newArgvMailboxKey          // its MailboxKey, for the suppression list
	newArgvAddr                // the address
	newArgvSubscription        // each subscription's value when no email goes out
	newArgvLink                // what an email going out appends to it: the link's time
	newArgvConsent             // the consent record up to its user agent: action, time and IP, each followed by consentSep
	newArgvWording             // the record's wording version
	newArgvRefs                // 3: the stored forms of the user agent, the source and the newsletters (dictRef)
)

// newArgvValues is the position of the three values whose stored forms
// are at newArgvRefs, for a new dictionary entry.
const newArgvValues = newArgvRefs + 3

// The positions of newAddressScript's arguments after the values.
const (
	newArgvName        = newArgvValues + 3 + iota // the name the email greets
	newArgvOutbox                                 // the outbox entry (outboxEntry)
	newArgvSiteOK                                 // "1" when the site's limit allowed an email, else "0"
	newArgvNowMs                                  // unix milliseconds, for the address's limits
	newArgvAddressTTL                             // the longest of the address's windows in milliseconds, "" for none
	newArgvNewsletters                            // the number of newsletters
	newArgvFields                                 // then each newsletter's subscription field, then the address's windows
)

// newArgv is the Lua expression for newAddressScript's argument at
// position i.
func newArgv(i int) string { return "ARGV[" + strconv.Itoa(i+1) + "]" }

// newAddressCommand is the EVALSHA of newAddressScript for the address
// of in with the id reserved for it: the script's keys and arguments laid
// out in one slice, the partition's keys boxed once for all signups.
func newAddressCommand(id int64, in signupInput, siteOK bool) []any {
	p := newsletter.PartitionOf(id)
	pk := &signupKeysOf[p]
	nkeys := signupKeyAudiences + len(in.nls)
	size := 3 + nkeys + newArgvFields + len(in.nls) + 4
	cmd := make([]any, 3+nkeys+newArgvFields, size)
	cmd[0], cmd[1], cmd[2] = "evalsha", newAddressScript.Hash(), nkeys
	keys, args := cmd[3:3+nkeys], cmd[3+nkeys:]
	keys[signupKeySubscriber], keys[signupKeyIndex], keys[signupKeyDict] = keySubscriber(id), pk.index, pk.dict
	keys[signupKeyOutbox], keys[signupKeySuppressed], keys[signupKeyAddressLimit] = pk.outbox, pk.suppressed, pk.next
	for i, nl := range in.nls {
		keys[signupKeyAudiences+i] = audienceKeysBoxed(nl, p)[0]
	}
	c := cleanConsent(in.consent)
	now := strconv.FormatInt(in.now.Unix(), 10)
	nls := strings.Join(in.nls, ",")
	args[newArgvID], args[newArgvBit], args[newArgvAddrKey], args[newArgvMailboxKey], args[newArgvAddr] =
		id, newsletter.BitOf(id), AddressKey(in.addr), in.mailbox, in.addr
	args[newArgvSubscription], args[newArgvLink] = "p|"+now+"|0|0|1", "|"+now
	args[newArgvConsent] = actionLetters[ActionSignup] + consentSep + now + consentSep + c.IP + consentSep
	args[newArgvWording] = c.Wording
	for i, v := range [3]string{c.UserAgent, c.Source, nls} {
		args[newArgvRefs+i], args[newArgvValues+i] = dictRef(v), v
	}
	args[newArgvName] = in.name
	args[newArgvOutbox] = outboxEntry(id, nls, 1, now, in.outbox)
	args[newArgvSiteOK], args[newArgvNowMs], args[newArgvAddressTTL] = flag(siteOK), in.now.UnixMilli(), ""
	args[newArgvNewsletters] = len(in.nls)
	a := in.limits.address
	if a != nil {
		keys[signupKeyAddressLimit], args[newArgvAddressTTL] = a.key, a.ttl
	}
	// keys and args are views of cmd's start: nothing is written through
	// them after an append may have moved cmd.
	for _, nl := range in.nls {
		cmd = append(cmd, prefixSubscription+nl)
	}
	if a != nil {
		for _, v := range a.windows {
			cmd = append(cmd, v)
		}
	}
	return cmd
}

// dictRef is how consent_field (luaConsent) stores value v before its
// dictionary number is known: "" for "", "=" and v when v may name a
// person (it holds an @), else the key of v in the partition's
// dictionary: "v:" and v, or "h:" and v's SHA-1 when v is longer than 40
// bytes. newAddressScript looks up the keys ("v:" or "h:").
func dictRef(v string) string {
	switch {
	case v == "":
		return ""
	case strings.Contains(v, "@"):
		return "=" + v
	case len(v) > 40:
		sum := sha1.Sum([]byte(v))
		return "h:" + hex.EncodeToString(sum[:])
	}
	return "v:" + v
}
