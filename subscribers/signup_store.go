package subscribers

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/throttle"
)

// signupScript is the Redis side of a signup, in one round trip:
//
//  0. take the signup from the client's limit, if any: when that refuses,
//     stop and return {0, milliseconds to wait};
//  1. find or create the subscriber with the address;
//  2. subscribe it to each newsletter (transition "subscribe");
//  3. if some newsletter is not confirmed and the address is not
//     suppressed, take a confirmation email from the address's limits
//     (throttle.LuaAllowEach), then from the site's (throttle.LuaAllow),
//     stopping at the first that refuses;
//  4. if a subscription changed or an email goes out, append the consent
//     record; if an email goes out, store the token record and append the
//     email to the confirmation outbox (RelayConfirmations).
//
// It returns {id, position of the limit that refused (0: none)}, the
// address's limits counting first.
// Its arguments are positional, as signup lays them out (the argv*
// constants name the positions in both).
var signupScript = redis.NewScript(luaTransition + throttle.LuaAllow + throttle.LuaAllowEach + `
local key, addr, now, now_ms = ` + argv(argvKey) + `, ` + argv(argvAddr) + `, ` + argv(argvNow) + `, ` + argv(argvNowMs) + `
local nls, consent, token_hash, name = ` + argv(argvNewsletters) + `, ` + argv(argvConsent) + `, ` + argv(argvTokenHash) + `, ` + argv(argvName) + `
local exp, expire_at, outbox = ` + argv(argvExp) + `, ` + argv(argvExpireAt) + `, ` + argv(argvOutbox) + `
local client = {` + argv(argvClient) + `, ` + argv(argvClient+1) + `, ` + argv(argvClient+2) + `, ` + argv(argvClient+3) + `}
local site = {` + argv(argvSite) + `, ` + argv(argvSite+1) + `, ` + argv(argvSite+2) + `, ` + argv(argvSite+3) + `}
local address, address_ttl, windows = ` + argv(argvAddress) + `, ` + argv(argvAddress+1) + `, {}
for i = ` + strconv.Itoa(argvAddressWindow+1) + `, #ARGV, 2 do windows[#windows + 1] = {ARGV[i], ARGV[i + 1]} end
if client[1] ~= '' then
  local wait = allow(client[1], now_ms, client[2], client[3], client[4])
  if wait > 0 then return {0, wait} end
end
local id = redis.call('HGET', '` + keySubscriberIndex + `', key)
if not id then
  id = redis.call('INCR', '` + keySubscriberNext + `')
  redis.call('HSET', '` + keySubscriberIndex + `', key, id)
  redis.call('HSET', '` + prefixSubscriberKey + `' .. id, '` + fieldEmail + `', addr, '` + fieldCreatedAt + `', now)
end
local h = '` + prefixSubscriberKey + `' .. id
local unconfirmed, changed = {}, false
for nl in string.gmatch(nls, '[^,]+') do
  local p = '` + prefixAudienceKey + `' .. nl .. ':'
  local prev = transition(h, {pending = p .. 'pending', confirmed = p .. 'confirmed', unsubscribed = p .. 'unsubscribed'},
    nl, id, 'subscribe', now)
  if prev ~= 'confirmed' then unconfirmed[#unconfirmed + 1] = nl end
  if prev == '' or prev == 'unsubscribed' then changed = true end
end
local send, refused = 0, 0
if #unconfirmed > 0 and redis.call('HEXISTS', '` + keySuppressed + `', key) == 0 then
  send = 1
  if address ~= '' then
    local r = allow_each(address, now_ms, windows, address_ttl)
    if r[2] > 0 then send, refused = 0, r[2] end
  end
  if send == 1 and site[1] ~= '' and allow(site[1], now_ms, site[2], site[3], site[4]) > 0 then
    send, refused = 0, #windows + 1
  end
end
if changed or send == 1 then redis.call('RPUSH', h .. ':consent', consent) end
if send == 1 then
  local token = '` + prefixConfirmToken + `' .. token_hash
  redis.call('HSET', token, 'sid', id, 'nls', table.concat(unconfirmed, ','), 'name', name, 'exp', exp)
  redis.call('EXPIREAT', token, expire_at)
  redis.call('SADD', h .. ':tokens', token_hash)
  redis.call('EXPIREAT', h .. ':tokens', expire_at)
  redis.call('RPUSH', '` + keyConfirmOutbox + `', id .. '\n' .. table.concat(unconfirmed, ',') .. '\n' .. outbox)
end
return {tonumber(id), refused}
`)

// The positions of signupScript's arguments (from 0 here, from 1 in Lua).
// The client's and the site's limits are a key ("" for none), the window
// in milliseconds, the limit and a unique member (throttle.Window.Spec);
// the address's limits are a key ("" for none), the longest window in
// milliseconds, and then window and limit for each of them
// (throttle.Windows.Spec), as many as there are.
const (
	argvKey           = iota // AddressKey of the address
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
	argvClient               // 4: the client's signup limit
	argvSite          = argvClient + 4
	argvAddress       = argvSite + 4 // 2: the address's limits, then their windows
	argvAddressWindow = argvAddress + 2
)

// argv is the Lua expression for signupScript's argument at position i.
func argv(i int) string { return "ARGV[" + strconv.Itoa(i+1) + "]" }

// signupLimits are the limits a signup takes from.
type signupLimits struct {
	client  *windowArgs // the client's signup limit (nil: none)
	site    *windowArgs // the site's confirmation limit (nil: none)
	address *eachArgs   // the address's confirmation limits (nil: none)
}

// windowArgs are one throttle.Window's arguments for allow.
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

// signupResult is what signupScript found and did.
type signupResult struct {
	id      int64
	refused int           // the position in the limits of the one that held the email back, or -1
	wait    time.Duration // > 0: the client's limit refused, and nothing was done
}

// signup runs signupScript for addr and nls at now; consent is the record
// to keep, limits what to take from, and the token record (hash, name,
// expiry) and the outbox payload what to store when an email goes out.
func (s *Store) signup(ctx context.Context, addr string, nls []string, now time.Time, consent Consent,
	limits signupLimits, tokenHash, name string, exp time.Time, outbox []byte) (signupResult, error) {
	raw, err := json.Marshal(consent)
	if err != nil {
		return signupResult{}, err
	}
	args := make([]any, argvAddressWindow, argvAddressWindow+4)
	args[argvKey], args[argvAddr], args[argvNow], args[argvNowMs] = AddressKey(addr), addr, now.Unix(), now.UnixMilli()
	args[argvNewsletters], args[argvConsent], args[argvTokenHash] = strings.Join(nls, ","), raw, tokenHash
	args[argvName], args[argvExp], args[argvExpireAt] = name, exp.Unix(), exp.Add(tokenGrace).Unix()
	args[argvOutbox] = outbox
	limits.client.put(args[argvClient:])
	limits.site.put(args[argvSite:])
	args[argvAddress], args[argvAddress+1] = "", 0
	if a := limits.address; a != nil {
		args[argvAddress], args[argvAddress+1] = a.key, a.ttl
		for _, v := range a.windows {
			args = append(args, v)
		}
	}
	res, err := signupScript.Run(ctx, s.rdb, nil, args...).Slice()
	if err != nil {
		return signupResult{}, err
	}
	return decodeSignupResult(res), nil
}

// put lays the window's arguments out in dst[:4]; a nil window as none.
func (w *windowArgs) put(dst []any) {
	if w == nil {
		dst[0], dst[1], dst[2], dst[3] = "", 0, 0, ""
		return
	}
	dst[0], dst[1], dst[2], dst[3] = w.key, w.window, w.limit, w.member
}

func decodeSignupResult(res []any) signupResult {
	var r signupResult
	r.id, _ = res[0].(int64)
	n, _ := res[1].(int64)
	if r.id == 0 { // the client's limit refused
		r.wait = time.Duration(n) * time.Millisecond
		return r
	}
	r.refused = int(n) - 1
	return r
}
