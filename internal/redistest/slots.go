package redistest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Every script and transaction the service runs must touch keys of one
// Redis Cluster slot, or a cluster refuses it (CROSSSLOT). A test client
// checks each one it sends: SlotCheck is a go-redis hook that fails the test
// when a script's KEYS, the keys of a MULTI/EXEC block, or the keys of one
// multi-key command span more than one slot. Client installs it, so every
// package test that talks to Redis checks the key layout of what it runs.

// SlotCheck returns a hook that reports to tb every command or transaction
// whose keys span more than one slot.
func SlotCheck(tb testing.TB) redis.Hook { return slotHook{tb} }

type slotHook struct{ tb testing.TB }

func (h slotHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h slotHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.check([]redis.Cmder{cmd})
		return next(ctx, cmd)
	}
}

func (h slotHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.checkPipeline(cmds)
		return next(ctx, cmds)
	}
}

// checkPipeline checks each command of a plain pipeline on its own (a
// cluster client splits them by slot) and a MULTI/EXEC block as one.
func (h slotHook) checkPipeline(cmds []redis.Cmder) {
	for i := 0; i < len(cmds); i++ {
		if cmds[i].Name() != "multi" {
			h.check(cmds[i : i+1])
			continue
		}
		j := i + 1
		for j < len(cmds) && cmds[j].Name() != "exec" {
			j++
		}
		h.check(cmds[i+1 : min(j, len(cmds))])
		i = j
	}
}

// check fails the test when the keys of cmds, taken together, span more
// than one slot.
func (h slotHook) check(cmds []redis.Cmder) {
	var keys []string
	for _, c := range cmds {
		keys = append(keys, commandKeys(c)...)
	}
	if len(keys) < 2 {
		return
	}
	first := Slot(keys[0])
	for _, k := range keys[1:] {
		if Slot(k) != first {
			h.tb.Errorf("redistest: keys of one slot-bound step span slots: %q (slot %d) and %q (slot %d), in %s",
				keys[0], first, k, Slot(k), describe(cmds))
			return
		}
	}
}

// commandKeys returns the keys a command names, for the commands whose
// keys can span slots: scripts and the multi-key commands; other commands
// name one key, their first argument.
func commandKeys(c redis.Cmder) []string {
	args := c.Args()
	name := strings.ToLower(fmt.Sprint(args[0]))
	str := func(from, to int) []string {
		var out []string
		for _, a := range args[min(from, len(args)):min(to, len(args))] {
			out = append(out, fmt.Sprint(a))
		}
		return out
	}
	switch name {
	case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
		var n int
		if len(args) > 2 {
			fmt.Sscan(fmt.Sprint(args[2]), &n)
		}
		return str(3, 3+n)
	case "del", "unlink", "exists", "touch", "mget", "watch", "sinter", "sunion", "sdiff", "pfcount":
		return str(1, len(args))
	case "bitop":
		return str(2, len(args))
	case "mset", "msetnx":
		var out []string
		for i := 1; i < len(args); i += 2 {
			out = append(out, fmt.Sprint(args[i]))
		}
		return out
	case "rename", "renamenx", "copy", "lmove", "rpoplpush", "smove":
		return str(1, 3)
	case "ping", "multi", "exec", "select", "hello", "client", "info", "flushdb", "script", "time", "dbsize", "config", "cluster", "role", "memory", "scan", "keys", "command", "readonly":
		return nil
	}
	return str(1, 2)
}

func describe(cmds []redis.Cmder) string {
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name())
	}
	if len(names) == 1 {
		return names[0]
	}
	return "MULTI " + strings.Join(names, " ") + " EXEC"
}

// Slot returns the Redis Cluster hash slot of key: CRC16 of its hash tag
// (the part between the first "{" and the next "}", when not empty) or of
// the whole key, modulo 16384.
func Slot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return int(crc16(key) % 16384)
}

// crc16 is CRC-16/XMODEM, the checksum Redis Cluster hashes keys with.
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
