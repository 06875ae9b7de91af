package subscribers

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter"
	"newsletter/throttle"
)

// A signup takes up to four round trips, each touching one slot:
//
//  1. a pipeline: take the signup from the client's limit and a
//     confirmation email from the site's (both global), and look the
//     address up in its partition's index;
//  2. for a new address only, createScript gives it an id;
//  3. signupScript does the signup itself in the address's partition, as
//     one atomic step;
//  4. when the site's slot was taken but no email went out (the client's
//     limit refused, or the address needed none), the slot is given back.

// createScript finds or creates the subscriber id of the address with
// AddressKey ARGV[1] in partition ARGV[2] (KEYS: index, next). An id made
// here holds nothing yet: signupScript fills its record.
var createScript = redis.NewScript(`
local id = redis.call('HGET', KEYS[1], ARGV[1])
if id then return tonumber(id) end
id = redis.call('INCR', KEYS[2]) * ` + strconv.Itoa(newsletter.Partitions) + ` + tonumber(ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], id)
return id
`)

// signupScript is a signup in the address's partition, in one atomic step:
//
//  1. fill in the subscriber's record, if it is new;
//  2. subscribe it to each newsletter (transition "subscribe");
//  3. if some newsletter is not confirmed and the address is not
//     suppressed, take a confirmation email from the address's limits
//     (throttle.LuaAllowEach); the site's limit was taken before, and
//     site_ok says whether it allowed;
//  4. if a subscription changed or an email goes out, append the consent
//     record; if an email goes out, store the token record and append the
//     email to the partition's confirmation outbox (RelayConfirmations).
//
// It returns {position of the limit that refused (0: none), 1 if an email
// went out}, the address's limits counting first.
//
// KEYS: the signupKey* positions, then the pending, confirmed and
// unsubscribed audiences of each newsletter, in ARGV's order.
// ARGV: the argv* positions, then window and limit of each of the
// address's limits.
var signupScript = redis.NewScript(luaTransition + throttle.LuaAllowEach + `
local id, bit, addr, now, now_ms = ` + argv(argvID) + `, ` + argv(argvBit) + `, ` + argv(argvAddr) + `, ` + argv(argvNow) + `, ` + argv(argvNowMs) + `
local nls, consent, token_hash, name = ` + argv(argvNewsletters) + `, ` + argv(argvConsent) + `, ` + argv(argvTokenHash) + `, ` + argv(argvName) + `
local exp, expire_at, outbox, site_ok = ` + argv(argvExp) + `, ` + argv(argvExpireAt) + `, ` + argv(argvOutbox) + `, ` + argv(argvSiteOK) + `
local address, address_ttl, windows = ` + argv(argvAddress) + `, ` + argv(argvAddress+1) + `, {}
for i = ` + strconv.Itoa(argvAddressWindow+1) + `, #ARGV, 2 do windows[#windows + 1] = {ARGV[i], ARGV[i + 1]} end
local h = ` + key(signupKeySubscriber) + `
if redis.call('HSETNX', h, '` + fieldEmail + `', addr) == 1 then
  redis.call('HSET', h, '` + fieldCreatedAt + `', now)
end
local unconfirmed, changed, i = {}, false, 0
for nl in string.gmatch(nls, '[^,]+') do
  local k = ` + strconv.Itoa(signupKeyAudiences) + ` + i * 3
  local prev = transition(h, {pending = KEYS[k + 1], confirmed = KEYS[k + 2], unsubscribed = KEYS[k + 3]},
    nl, bit, 'subscribe', now)
  if prev ~= 'confirmed' then unconfirmed[#unconfirmed + 1] = nl end
  if prev == '' or prev == 'unsubscribed' then changed = true end
  i = i + 1
end
local send, refused = 0, 0
if #unconfirmed > 0 and redis.call('HEXISTS', ` + key(signupKeySuppressed) + `, ARGV[` + strconv.Itoa(argvAddrKey+1) + `]) == 0 then
  send = 1
  if address ~= '' then
    local r = allow_each(` + key(signupKeyAddressLimit) + `, now_ms, windows, address_ttl)
    if r[2] > 0 then send, refused = 0, r[2] end
  end
  if send == 1 and site_ok == '0' then send, refused = 0, #windows + 1 end
end
if changed or send == 1 then redis.call('RPUSH', ` + key(signupKeyConsent) + `, consent) end
if send == 1 then
  local token = ` + key(signupKeyToken) + `
  redis.call('HSET', token, 'sid', id, 'nls', table.concat(unconfirmed, ','), 'name', name, 'exp', exp)
  redis.call('EXPIREAT', token, expire_at)
  redis.call('SADD', ` + key(signupKeyTokens) + `, token_hash)
  redis.call('EXPIREAT', ` + key(signupKeyTokens) + `, expire_at)
  redis.call('RPUSH', ` + key(signupKeyOutbox) + `, id .. '\n' .. table.concat(unconfirmed, ',') .. '\n' .. outbox)
end
return {refused, send}
`)

// The positions of signupScript's keys (from 0 here, from 1 in Lua).
const (
	signupKeySubscriber   = iota // the subscriber's hash
	signupKeyConsent             // its consent list
	signupKeyTokens              // its set of token hashes
	signupKeyToken               // the new token's record
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
	argvID            = iota // the subscriber id
	argvBit                  // its bit in the partition's audiences
	argvAddrKey              // AddressKey of the address
	argvAddr                 // the address
	argvNow                  // unix seconds
	argvNowMs                // unix milliseconds, for the limits
	argvNewsletters          // newsletter ids, comma separated
	argvConsent              // the consent record, JSON
	argvTokenHash            // the token's hash, hex
	argvName                 // the name the email greets
	argvExp                  // unix seconds the token expires
	argvExpireAt             // unix seconds the token's record goes
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
	client  *windowArgs // the client's signup limit (nil: none)
	site    *windowArgs // the site's confirmation limit (nil: none)
	address *eachArgs   // the address's confirmation limits (nil: none)
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
// limits to take from, and the token record (hash, name, expiry) and outbox
// payload to store when an email goes out.
type signupInput struct {
	addr      string
	nls       []string
	now       time.Time
	consent   Consent
	limits    signupLimits
	tokenHash string
	name      string
	exp       time.Time
	outbox    []byte
}

// signup runs a signup of in.addr, in the round trips described above.
func (s *Store) signup(ctx context.Context, in signupInput) (signupResult, error) {
	id, wait, siteTaken, err := s.signupGate(ctx, in)
	if err != nil || wait > 0 {
		return signupResult{wait: wait}, err
	}
	p := PartitionOf(in.addr)
	if id == 0 {
		if id, err = createScript.Run(ctx, s.rdb, []string{keyIndex(p), keyNext(p)}, AddressKey(in.addr), int(p)).Int64(); err != nil {
			return signupResult{}, s.giveBackSite(ctx, in.limits.site, siteTaken, err)
		}
	}
	keys, args, err := signupArgs(id, in, in.limits.site == nil || siteTaken)
	if err != nil {
		return signupResult{}, s.giveBackSite(ctx, in.limits.site, siteTaken, err)
	}
	res, err := signupScript.Run(ctx, s.rdb, keys, args...).Int64Slice()
	if err != nil {
		return signupResult{}, s.giveBackSite(ctx, in.limits.site, siteTaken, err)
	}
	r := signupResult{id: id, refused: int(res[0]) - 1, sent: res[1] == 1}
	if !r.sent {
		err = s.giveBackSite(ctx, in.limits.site, siteTaken, nil)
	}
	return r, err
}

// signupGate takes the signup from the client's limit and a confirmation
// email from the site's, and looks the address up, in one round trip. It
// returns the address's id (0 when new), how long the client must wait
// (then the site's slot is given back), and whether the site's slot was
// taken.
func (s *Store) signupGate(ctx context.Context, in signupInput) (id int64, wait time.Duration, siteTaken bool, err error) {
	now := in.now.UnixMilli()
	var client, site *redis.Cmd
	var found *redis.StringCmd
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		if c := in.limits.client; c != nil {
			client = throttle.AllowScript.EvalSha(ctx, p, []string{c.key}, now, c.window, c.limit, c.member)
		}
		if c := in.limits.site; c != nil {
			site = throttle.AllowScript.EvalSha(ctx, p, []string{c.key}, now, c.window, c.limit, c.member)
		}
		found = p.HGet(ctx, keyIndex(PartitionOf(in.addr)), AddressKey(in.addr))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) && !redis.HasErrorPrefix(err, "NOSCRIPT") {
		return 0, 0, false, err
	}
	// A Redis that lost its scripts (restarted) answers NOSCRIPT to the
	// commands that ran none: run those again with the script's text.
	for _, w := range []struct {
		cmd  *redis.Cmd
		args *windowArgs
	}{{client, in.limits.client}, {site, in.limits.site}} {
		if w.cmd != nil && redis.HasErrorPrefix(w.cmd.Err(), "NOSCRIPT") {
			c := w.args
			*w.cmd = *throttle.AllowScript.Eval(ctx, s.rdb, []string{c.key}, now, c.window, c.limit, c.member)
			if err := w.cmd.Err(); err != nil {
				return 0, 0, false, err
			}
		}
	}
	if found.Err() != nil && !errors.Is(found.Err(), redis.Nil) {
		return 0, 0, false, found.Err()
	}
	siteTaken = site != nil && site.Val() == int64(0)
	if client != nil {
		if ms, _ := client.Int64(); ms > 0 {
			return 0, time.Duration(ms) * time.Millisecond, false, s.giveBackSite(ctx, in.limits.site, siteTaken, nil)
		}
	}
	id, _ = strconv.ParseInt(found.Val(), 10, 64)
	return id, 0, siteTaken, nil
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

// signupArgs lays out signupScript's keys and arguments for subscriber id.
func signupArgs(id int64, in signupInput, siteOK bool) ([]string, []any, error) {
	raw, err := json.Marshal(in.consent)
	if err != nil {
		return nil, nil, err
	}
	p := newsletter.PartitionOf(id)
	keys := make([]string, signupKeyAudiences, signupKeyAudiences+3*len(in.nls))
	keys[signupKeySubscriber], keys[signupKeyConsent], keys[signupKeyTokens] = keySubscriber(id), keyConsent(id), keyTokens(id)
	keys[signupKeyToken], keys[signupKeyOutbox] = keyConfirmToken(p, in.tokenHash), keyOutbox(p)
	keys[signupKeySuppressed], keys[signupKeyAddressLimit] = keySuppressed(p), keyNext(p) // a key of the partition when there are no limits
	for _, nl := range in.nls {
		keys = append(keys, audienceKeys(nl, p)...)
	}
	args := make([]any, argvAddressWindow, argvAddressWindow+4)
	args[argvID], args[argvBit], args[argvAddrKey], args[argvAddr] = id, newsletter.BitOf(id), AddressKey(in.addr), in.addr
	args[argvNow], args[argvNowMs], args[argvNewsletters] = in.now.Unix(), in.now.UnixMilli(), strings.Join(in.nls, ",")
	args[argvConsent], args[argvTokenHash], args[argvName] = raw, in.tokenHash, in.name
	args[argvExp], args[argvExpireAt], args[argvOutbox] = in.exp.Unix(), in.exp.Add(tokenGrace).Unix(), in.outbox
	args[argvSiteOK] = "0"
	if siteOK {
		args[argvSiteOK] = "1"
	}
	args[argvAddress], args[argvAddress+1] = "", 0
	if a := in.limits.address; a != nil {
		keys[signupKeyAddressLimit] = a.key
		args[argvAddress], args[argvAddress+1] = "1", a.ttl
		for _, v := range a.windows {
			args = append(args, v)
		}
	}
	return keys, args, nil
}
