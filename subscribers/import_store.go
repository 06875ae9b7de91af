package subscribers

import (
	"context"
	"newsletter"

	"github.com/redis/go-redis/v9"
)

// importScript stores one imported row of subscriber ARGV[1], whose id
// createScript gave: it fills in the subscriber's record if it is new (its
// first consent record, appended here, dates it), sets
// each subscription to the row's status unless that would undo an
// unsubscription or demote a confirmed reader, and appends the consent
// record.
//
// KEYS: subscriber hash, the partition's dictionary, then the pending,
// confirmed and unsubscribed audiences of each newsletter, in ARGV's order.
// ARGV: id, bit, address, name, now, consent source, status, newsletters...
var importScript = redis.NewScript(luaTransition + luaConsent + `
local h, bit = KEYS[1], ARGV[2]
redis.call('HSETNX', h, '` + fieldEmail + `', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSETNX', h, '` + fieldName + `', ARGV[4]) end
local want, now = ARGV[7], ARGV[5]
local aud = {pending = 0, confirmed = 1, unsubscribed = 2}
for i = 8, #ARGV do
  local nl, k = ARGV[i], 2 + (i - 8) * 3
  local field = '` + prefixSubscription + `' .. nl
  local st, w = parse_sub(redis.call('HGET', h, field))
  local keep = st == want or st == 'unsubscribed' or (st == 'confirmed' and want == 'pending')
  if not keep then
    local ca, ua = '0', '0'
    if want == 'confirmed' then ca = now end
    if want == 'unsubscribed' then ua = now end
    redis.call('HSET', h, field, format_sub(want, w, now, ca, ua, '0', '0'))
    if st ~= '' then clearbit(KEYS[k + 1 + aud[st]], bit) end
    redis.call('SETBIT', KEYS[k + 1 + aud[want]], bit, 1)
  end
end
add_consent(h, KEYS[2], '` + actionLetters[ActionImport] + `', now, '', '', ARGV[6], '', table.concat(ARGV, ',', 8))
return 0
`)

// importRows stores rows in two pipelines: one gives each new address an
// id, the other stores each row in its partition.
func (s *Store) importRows(ctx context.Context, rows []importRow, consent Consent) error {
	if len(rows) == 0 {
		return nil
	}
	for _, sc := range []*redis.Script{createScript, importScript} {
		if err := loadScript(ctx, s.rdb, sc); err != nil {
			return err
		}
	}
	ids := make([]*redis.Cmd, len(rows))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, r := range rows {
			part := PartitionOf(r.addr)
			ids[i] = createScript.EvalSha(ctx, p, []string{keyIndex(part), keyNext(part)}, AddressKey(r.addr), int(part))
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, r := range rows {
			id, _ := ids[i].Int64()
			keys := []string{keySubscriber(id), keyDict(newsletter.PartitionOf(id))}
			args := []any{id, newsletter.BitOf(id), r.addr, r.name, consent.At.Unix(), consent.Source, string(r.status)}
			for _, nl := range r.newsletters {
				keys = append(keys, audienceKeys(nl, newsletter.PartitionOf(id))...)
				args = append(args, nl)
			}
			importScript.EvalSha(ctx, p, keys, args...)
		}
		return nil
	})
	return err
}

// loadScript loads sc on every node that may run it: every master of a
// cluster (EvalSha in a pipeline does not fall back to EVAL).
func loadScript(ctx context.Context, rdb redis.UniversalClient, sc *redis.Script) error {
	if c, ok := rdb.(*redis.ClusterClient); ok {
		return c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			return sc.Load(ctx, node).Err()
		})
	}
	return sc.Load(ctx, rdb).Err()
}
