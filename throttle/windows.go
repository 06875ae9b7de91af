package throttle

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// Windows are several sliding windows over the same keys, checked in
// order, kept together as one small record per key: for each window, the
// times of the events it holds. It costs one write per check for a new
// key and a read and a write for a known one, where a Window per limit costs a sorted set and four commands
// each; it suits a few low limits on many keys, such as the confirmation
// emails to one address (one per 10 minutes, five a day).
//
// An event is taken from each window in turn, stopping at the first that
// refuses it: the windows before that one have taken it, the refusing one
// and those after it have not.
type Windows struct {
	rdb    redis.UniversalClient
	prefix string
	rates  []Rate
}

// NewWindows returns the windows at rates, in the order they are checked,
// kept under keys that start with prefix. Unlimited rates are left out.
func NewWindows(rdb redis.UniversalClient, prefix string, rates ...Rate) *Windows {
	w := &Windows{rdb: rdb, prefix: prefix}
	for _, r := range rates {
		if !r.Unlimited() {
			w.rates = append(w.rates, r)
		}
	}
	return w
}

// Rates are the windows' rates, in the order they are checked.
func (w *Windows) Rates() []Rate {
	if w == nil {
		return nil
	}
	return w.rates
}

// luaWindows defines allow_each(key, now, windows, ttl) for scripts, where
// windows are {window ms, limit} pairs in order and ttl the longest window
// in milliseconds. The record at key is one line per window of the event
// times it holds, in milliseconds: "t1 t2\nt3". allow_each returns 0 and
// 0 when every window took the event, else the milliseconds until the
// first refusing window would allow it and that window's position (from
// 1). When no window took the event, the record stays as it was. It
// writes first, as if the key held no record (most keys are new: SET with
// GET, one call), and reads and writes again only when it did.
const luaWindows = `
local function allow_each(key, now, windows, ttl)
  now = tonumber(now)
  local logs, i, fresh, room = {}, 0, {}, true
  for j, w in ipairs(windows) do
    fresh[j] = string.format('%d', now)
    if tonumber(w[2]) < 1 then room = false end
  end
  local rec
  if room then
    rec = redis.call('SET', key, table.concat(fresh, '\n'), 'PX', ttl, 'GET')
    if not rec then return {0, 0} end
  else
    rec = redis.call('GET', key)
  end
  if rec then
    for line in string.gmatch(rec .. '\n', '([^\n]*)\n') do
      i = i + 1
      local l = {}
      for t in string.gmatch(line, '%d+') do l[#l + 1] = tonumber(t) end
      logs[i] = l
    end
  end
  local wait, refused = 0, 0
  for j, w in ipairs(windows) do
    local span, limit, kept = tonumber(w[1]), tonumber(w[2]), {}
    for _, t in ipairs(logs[j] or {}) do
      if t > now - span then kept[#kept + 1] = t end
    end
    logs[j] = kept
    if #kept >= limit then
      wait, refused = math.max(kept[1] + span - now, 1), j
      break
    end
    kept[#kept + 1] = now
  end
  if refused == 1 and room then
    redis.call('SET', key, rec, 'PX', ttl) -- the first write assumed a new record: put the old one back
  elseif refused ~= 1 then
    local lines = {}
    for j = 1, #windows do
      local l = {}
      for k, t in ipairs(logs[j] or {}) do l[k] = string.format('%d', t) end
      lines[j] = table.concat(l, ' ')
    end
    redis.call('SET', key, table.concat(lines, '\n'), 'PX', ttl)
  end
  return {wait, refused}
end
`

// LuaAllowEach defines allow_each(key, now, windows, ttl) for the scripts
// of other packages that take events from Windows in the same round trip
// as other work; Spec gives its arguments. allow_each returns {0, 0} when
// every window took the event, else {milliseconds to wait, position of
// the refusing window from 1}.
const LuaAllowEach = luaWindows

// Spec returns what allow_each needs to take an event for key: the full
// key, the windows as window milliseconds and limit, alternately, and the
// longest window in milliseconds. ok is false when no window limits
// anything.
func (w *Windows) Spec(key string) (fullKey string, windows []int64, ttl int64, ok bool) {
	if w == nil || len(w.rates) == 0 {
		return "", nil, 0, false
	}
	for _, r := range w.rates {
		windows = append(windows, r.Per.Milliseconds(), int64(r.N))
		ttl = max(ttl, r.Per.Milliseconds())
	}
	return w.prefix + key, windows, ttl, true
}

// windowsScript runs allow_each on KEYS[1].
//
// ARGV: now ms, longest window ms, then window ms and limit for each window.
var windowsScript = redis.NewScript(luaWindows + `
local windows = {}
for i = 3, #ARGV, 2 do windows[#windows + 1] = {ARGV[i], ARGV[i + 1]} end
return allow_each(KEYS[1], ARGV[1], windows, ARGV[2])
`)

// Allow takes one event for key at time now from each window in turn. It
// returns refused -1 when all took it; else the position of the first
// window that refused it, and how long until that one would allow it.
func (w *Windows) Allow(ctx context.Context, key string, now time.Time) (wait time.Duration, refused int, err error) {
	full, windows, ttl, ok := w.Spec(key)
	if !ok {
		return 0, -1, nil
	}
	args := []any{now.UnixMilli(), ttl}
	for _, v := range windows {
		args = append(args, v)
	}
	res, err := windowsScript.Run(ctx, w.rdb, []string{full}, args...).Int64Slice()
	if err != nil {
		return 0, -1, err
	}
	return time.Duration(res[0]) * time.Millisecond, int(res[1]) - 1, nil
}
