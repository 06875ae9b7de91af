package subscribers

import (
	"context"
	"encoding/json"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/throttle"
)

// signupScript is the Redis side of a signup, in one round trip:
//
//  0. take the signup from the client's limit, if any: when that refuses,
//     stop and return {0, 0, 0, milliseconds to wait};
//  1. find or create the subscriber with the address;
//  2. subscribe it to each newsletter (transition "subscribe");
//  3. if some newsletter is not confirmed and the address is not
//     suppressed, take a confirmation email from each limit in turn
//     (throttle.LuaAllow), stopping at the first that refuses;
//  4. if a subscription changed or an email goes out, append the consent
//     record; if an email goes out, store the token record.
//
// It returns {id, send 0/1, position of the limit that refused (0: none),
// the newsletters to confirm...}. The parameters come as one JSON object,
// signupArgs.
var signupScript = redis.NewScript(luaTransition + throttle.LuaAllow + `
local a = cjson.decode(ARGV[1])
if a.client then
  local wait = allow(a.client.key, a.now_ms, a.client.window, a.client.limit, a.client.member)
  if wait > 0 then return {0, 0, 0, wait} end
end
local id = redis.call('HGET', a.index, a.key)
if not id then
  id = redis.call('INCR', a.next)
  redis.call('HSET', a.index, a.key, id)
  redis.call('HSET', a.sub .. id, '` + fieldEmail + `', a.addr, '` + fieldCreatedAt + `', a.now)
end
local h = a.sub .. id
local unconfirmed, changed = {}, false
for _, nl in ipairs(a.nls) do
  local p = a.aud .. nl .. ':'
  local prev = transition(h, {pending = p .. 'pending', confirmed = p .. 'confirmed', unsubscribed = p .. 'unsubscribed'},
    nl, id, 'subscribe', a.now)
  if prev ~= 'confirmed' then unconfirmed[#unconfirmed + 1] = nl end
  if prev == '' or prev == 'unsubscribed' then changed = true end
end
local send, refused = 0, 0
if #unconfirmed > 0 and redis.call('HEXISTS', a.suppressed, a.key) == 0 then
  send = 1
  for i, l in ipairs(a.limits) do
    if allow(l.key, a.now_ms, l.window, l.limit, l.member) > 0 then
      send, refused = 0, i
      break
    end
  end
end
if changed or send == 1 then redis.call('RPUSH', h .. ':consent', a.consent) end
if send == 1 then
  redis.call('HSET', a.token, 'sid', id, 'nls', table.concat(unconfirmed, ','), 'name', a.name, 'exp', a.exp)
  redis.call('EXPIREAT', a.token, a.expire_at)
  redis.call('SADD', h .. ':tokens', a.token_hash)
  redis.call('EXPIREAT', h .. ':tokens', a.expire_at)
end
local out = {tonumber(id), send, refused}
for _, nl in ipairs(unconfirmed) do out[#out + 1] = nl end
return out
`)

// signupArgs are the parameters of signupScript. Key names and prefixes
// come from keys.go.
type signupArgs struct {
	Index      string      `json:"index"`      // keySubscriberIndex
	Next       string      `json:"next"`       // keySubscriberNext
	Suppressed string      `json:"suppressed"` // keySuppressed
	Sub        string      `json:"sub"`        // subscriber key prefix
	Aud        string      `json:"aud"`        // audience key prefix
	Key        string      `json:"key"`        // AddressKey of the address
	Addr       string      `json:"addr"`
	Now        int64       `json:"now"`    // unix seconds
	NowMs      int64       `json:"now_ms"` // unix milliseconds, for the limits
	Newsletter []string    `json:"nls"`
	Client     *limitArgs  `json:"client,omitempty"` // the client's signup limit
	Limits     []limitArgs `json:"limits"`
	Consent    string      `json:"consent"` // the consent record, JSON
	Token      string      `json:"token"`   // the token record's key
	TokenHash  string      `json:"token_hash"`
	Name       string      `json:"name"`
	Exp        int64       `json:"exp"`       // unix seconds the token expires
	ExpireAt   int64       `json:"expire_at"` // unix seconds the token record goes
}

// limitArgs are one limit's arguments for throttle.LuaAllow.
type limitArgs struct {
	Key    string `json:"key"`
	Window int64  `json:"window"`
	Limit  int    `json:"limit"`
	Member string `json:"member"`
}

// signupResult is what signupScript found and did.
type signupResult struct {
	id          int64
	send        bool          // a confirmation email is to go out
	refused     int           // the position in the limits of the one that held the email back, or -1
	unconfirmed []string      // the newsletters the email confirms
	wait        time.Duration // > 0: the client's limit refused, and nothing was done
}

// signup runs signupScript for addr and nls at now; consent is the record
// to keep, client the client's signup limit (nil: none), limits the
// confirmation limits to take from, and the token record (hash, name,
// expiry) what to store when an email goes out.
func (s *Store) signup(ctx context.Context, addr string, nls []string, now time.Time, consent Consent,
	client *limitArgs, limits []limitArgs, tokenHash, name string, exp time.Time) (signupResult, error) {
	raw, err := json.Marshal(consent)
	if err != nil {
		return signupResult{}, err
	}
	args, err := json.Marshal(signupArgs{
		Index: keySubscriberIndex, Next: keySubscriberNext, Suppressed: keySuppressed,
		Sub: prefixSubscriberKey, Aud: prefixAudienceKey,
		Key: AddressKey(addr), Addr: addr, Now: now.Unix(), NowMs: now.UnixMilli(), Newsletter: nls,
		Client: client, Limits: limits, Consent: string(raw), Token: keyConfirmToken(tokenHash), TokenHash: tokenHash,
		Name: name, Exp: exp.Unix(), ExpireAt: exp.Add(tokenGrace).Unix(),
	})
	if err != nil {
		return signupResult{}, err
	}
	res, err := signupScript.Run(ctx, s.rdb, nil, args).Slice()
	if err != nil {
		return signupResult{}, err
	}
	var r signupResult
	if id, _ := res[0].(int64); id == 0 { // the client's limit refused
		wait, _ := res[3].(int64)
		r.wait = time.Duration(wait) * time.Millisecond
		return r, nil
	}
	r.id, _ = res[0].(int64)
	send, _ := res[1].(int64)
	refused, _ := res[2].(int64)
	r.send, r.refused = send == 1, int(refused)-1
	for _, v := range res[3:] {
		nl, _ := v.(string)
		r.unconfirmed = append(r.unconfirmed, nl)
	}
	return r, nil
}
