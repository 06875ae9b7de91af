package subscribers

import (
	"context"
	"encoding/json"

	"github.com/redis/go-redis/v9"
)

// importScript stores one imported row: it finds or creates the subscriber,
// sets each subscription to the row's status unless that would undo an
// unsubscription or demote a confirmed reader, and appends the consent
// record. Key prefixes come in ARGV so the layout stays in keys.go.
//
// KEYS: index, next id.
// ARGV: address key, address, name, now, consent JSON, status,
// subscriber prefix, audience prefix, newsletters...
var importScript = redis.NewScript(luaClearBit + `
local id = redis.call('HGET', KEYS[1], ARGV[1])
local sub = ARGV[7]
if not id then
  id = redis.call('INCR', KEYS[2])
  redis.call('HSET', KEYS[1], ARGV[1], id)
  redis.call('HSET', sub .. id, '` + fieldEmail + `', ARGV[2], '` + fieldCreatedAt + `', ARGV[4])
end
local h = sub .. id
if ARGV[3] ~= '' then redis.call('HSETNX', h, '` + fieldName + `', ARGV[3]) end
local want, now = ARGV[6], ARGV[4]
for i = 9, #ARGV do
  local nl = ARGV[i]
  local cur = redis.call('HGET', h, '` + prefixSubscription + `' .. nl)
  local st = cur and string.match(cur, '^(%a+)|') or ''
  local keep = st == want or st == 'unsubscribed' or (st == 'confirmed' and want == 'pending')
  if not keep then
    local ca, ua = '0', '0'
    if want == 'confirmed' then ca = now end
    if want == 'unsubscribed' then ua = now end
    redis.call('HSET', h, '` + prefixSubscription + `' .. nl, want .. '|' .. now .. '|' .. ca .. '|' .. ua)
    if st ~= '' then clearbit(ARGV[8] .. nl .. ':' .. st, id) end
    redis.call('SETBIT', ARGV[8] .. nl .. ':' .. want, id, 1)
  end
end
redis.call('RPUSH', h .. ':consent', ARGV[5])
return id
`)

// importRows stores rows in one pipeline.
func (s *Store) importRows(ctx context.Context, rows []importRow, consent Consent) error {
	if len(rows) == 0 {
		return nil
	}
	if err := importScript.Load(ctx, s.rdb).Err(); err != nil {
		return err
	}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, r := range rows {
			c := consent
			c.Newsletters = r.newsletters
			raw, err := json.Marshal(c)
			if err != nil {
				return err
			}
			args := []any{AddressKey(r.addr), r.addr, r.name, consent.At.Unix(), raw, string(r.status), prefixSubscriberKey, prefixAudienceKey}
			for _, nl := range r.newsletters {
				args = append(args, nl)
			}
			importScript.EvalSha(ctx, p, []string{keySubscriberIndex, keySubscriberNext}, args...)
		}
		return nil
	})
	return err
}
