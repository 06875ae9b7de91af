package subscribers

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter"
)

// Consent records live in the subscriber's hash, one field each (k1, k2,
// ...), so that they cost no key of their own and keep the hash in Redis's
// compact encoding. A record is its fields joined by consentSep:
//
//	action letter, unix seconds, IP, user agent, source, wording version, newsletters
//
// The user agent, the source and the newsletters repeat from reader to
// reader, so each is stored once per partition in its dictionary (keyDict)
// and the record holds its number there (a value longer than 40 bytes is
// found by its SHA-1, so that it is stored once, not twice). A value that may name a person (it
// holds an @) is never put in the dictionary, where an erasure would not
// reach it: it stays in the record, marked with a leading "=". Every value
// is one line (RequestMeta values are cleaned at the edge), so the
// separator, a control character, never occurs in one.

// consentSep separates the fields of a stored consent record.
const consentSep = "\x1f"

// prefixConsent starts the fields of the consent records: k1 is the first.
const prefixConsent = "k"

// actionLetters are the stored forms of the consent actions.
var actionLetters = map[string]string{ActionSignup: "s", ActionConfirm: "c", ActionUnsubscribe: "u", ActionImport: "i"}

// luaConsent defines, for scripts:
//
//   - intern_all(dict, vals): the stored form of each of vals, its number in
//     the partition's dictionary (added when new), "=" .. v when v names a
//     person, "" for ""; the numbers are looked up with one HMGET;
//   - consent_field(h, dict, first, action, at, ip, ua, source, wording, nls):
//     the field and value of the next consent record of the subscriber's hash
//     h (first: it has none yet), for the caller to write;
//   - add_consent(h, dict, action, at, ip, ua, source, wording, nls): appends
//     a consent record to the subscriber's hash h.
const luaConsent = `
local function intern_all(dict, vals)
  local refs, keys, at = {}, {}, {}
  for i, v in ipairs(vals) do
    if v == '' then refs[i] = ''
    elseif string.find(v, '@', 1, true) then refs[i] = '=' .. v
    else
      local key = 'v:' .. v
      if #v > 40 then key = 'h:' .. redis.sha1hex(v) end
      keys[#keys + 1], at[#keys + 1] = key, i
    end
  end
  if #keys == 0 then return refs end
  local found, made = redis.call('HMGET', dict, unpack(keys)), {}
  for k, key in ipairs(keys) do
    local n = found[k] or made[key]
    if not n then
      n = tostring(redis.call('HINCRBY', dict, '#', 1))
      redis.call('HSET', dict, key, n, 'i:' .. n, vals[at[k]])
      made[key] = n
    end
    refs[at[k]] = n
  end
  return refs
end
local function consent_field(h, dict, first, action, at, ip, ua, source, wording, nls)
  local n = 1
  if not first then
    while redis.call('HEXISTS', h, '` + prefixConsent + `' .. n) == 1 do n = n + 1 end
  end
  local r = intern_all(dict, {ua, source, nls})
  return '` + prefixConsent + `' .. n, table.concat({action, at, ip, r[1], r[2], wording, r[3]}, '` + consentSep + `')
end
local function add_consent(h, dict, action, at, ip, ua, source, wording, nls)
  local f, v = consent_field(h, dict, false, action, at, ip, ua, source, wording, nls)
  redis.call('HSET', h, f, v)
end
`

// Caps on the request values a consent record keeps: whatever a client
// sends, a record stays small (a 60,000-byte User-Agent is cut to 512).
const (
	maxConsentIP        = 64
	maxConsentUserAgent = 512
	maxConsentSource    = 2048
	maxConsentWording   = 64
)

// cleanConsent returns c with its request values cut to their caps and to
// one line of printable text, as they are stored (the record's separator
// is a control character, which no value may hold).
func cleanConsent(c Consent) Consent {
	c.IP = oneLineText(c.IP, maxConsentIP)
	c.UserAgent = oneLineText(c.UserAgent, maxConsentUserAgent)
	c.Source = oneLineText(c.Source, maxConsentSource)
	c.Wording = oneLineText(c.Wording, maxConsentWording)
	return c
}

// consentArgs are the arguments of add_consent after h and dict, in order.
func consentArgs(c Consent) []any {
	c = cleanConsent(c)
	return []any{actionLetters[c.Action], c.At.Unix(), c.IP, c.UserAgent, c.Source, c.Wording, strings.Join(c.Newsletters, ",")}
}

// consentScript appends one consent record.
//
// KEYS: subscriber hash, the partition's dictionary.
// ARGV: consentArgs.
var consentScript = redis.NewScript(luaConsent + `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
add_consent(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7])
return 1
`)

// AddConsent appends a consent record to subscriber id's history; it does
// nothing when the subscriber does not exist.
func (s *Store) AddConsent(ctx context.Context, id int64, c Consent) error {
	keys := []string{keySubscriber(id), keyDict(newsletter.PartitionOf(id))}
	return consentScript.Run(ctx, s.rdb, keys, consentArgs(c)...).Err()
}

// storedConsent is a consent record as stored: its dictionary values not
// looked up yet.
type storedConsent struct {
	n      int
	fields []string
}

// storedConsents returns the consent records in a subscriber's hash, oldest
// first.
func storedConsents(h map[string]string) []storedConsent {
	var out []storedConsent
	for f, v := range h {
		rest, ok := strings.CutPrefix(f, prefixConsent)
		if !ok {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil {
			continue
		}
		fields := strings.Split(v, consentSep)
		for len(fields) < 7 {
			fields = append(fields, "")
		}
		out = append(out, storedConsent{n: n, fields: fields})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].n < out[j].n })
	return out
}

// refs returns the dictionary numbers the records use.
func dictRefs(records []storedConsent, into map[string]bool) {
	for _, r := range records {
		for _, i := range []int{3, 4, 6} {
			if v := r.fields[i]; v != "" && v[0] != '=' {
				into[v] = true
			}
		}
	}
}

// lookupDict returns the values of the numbers refs in partition p's
// dictionary, in one round trip.
func (s *Store) lookupDict(ctx context.Context, p newsletter.Partition, refs map[string]bool) (map[string]string, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	nums := make([]string, 0, len(refs))
	fields := make([]string, 0, len(refs))
	for n := range refs {
		nums = append(nums, n)
		fields = append(fields, "i:"+n)
	}
	vals, err := s.rdb.HMGet(ctx, keyDict(p), fields...).Result()
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(nums))
	for i, n := range nums {
		out[n] = str(vals[i])
	}
	return out, nil
}

// decodeConsents turns stored records into Consent, with dict the values of
// their dictionary numbers.
func decodeConsents(records []storedConsent, dict map[string]string) []Consent {
	out := make([]Consent, 0, len(records))
	value := func(v string) string {
		if rest, ok := strings.CutPrefix(v, "="); ok {
			return rest
		}
		if v == "" {
			return ""
		}
		return dict[v]
	}
	for _, r := range records {
		f := r.fields
		c := Consent{Action: actionOf(f[0]), IP: f[2], UserAgent: value(f[3]), Source: value(f[4]), Wording: f[5],
			Newsletters: []string{}}
		if sec, err := strconv.ParseInt(f[1], 10, 64); err == nil {
			c.At = time.Unix(sec, 0).UTC()
		}
		if nls := value(f[6]); nls != "" {
			c.Newsletters = strings.Split(nls, ",")
		}
		out = append(out, c)
	}
	return out
}

func actionOf(letter string) string {
	for action, l := range actionLetters {
		if l == letter {
			return action
		}
	}
	return letter
}

// withConsents fills in the Consent of each subscriber of partition p from
// its hash (hashes[i] is subs[i]'s), looking the dictionary up in one round
// trip.
func (s *Store) withConsents(ctx context.Context, p newsletter.Partition, subs []*Subscriber, hashes []map[string]string) error {
	records := make([][]storedConsent, len(subs))
	refs := map[string]bool{}
	for i, h := range hashes {
		records[i] = storedConsents(h)
		dictRefs(records[i], refs)
	}
	dict, err := s.lookupDict(ctx, p, refs)
	if err != nil {
		return err
	}
	for i, sub := range subs {
		sub.Consent = decodeConsents(records[i], dict)
	}
	return nil
}
