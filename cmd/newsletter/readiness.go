package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"newsletter/api"
)

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// readiness returns the check behind /readyz: whether the service can
// write to rdb now. On one server and behind Sentinel, the server the
// client writes to answers and is a master (a replica is read-only); on a
// cluster, every master answers and reports cluster_state:ok with all
// 16384 slots assigned and served.
func readiness(rdb redis.UniversalClient) func(context.Context) error {
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		return func(ctx context.Context) error { return clusterReady(ctx, cc) }
	}
	return func(ctx context.Context) error { return masterReady(ctx, rdb) }
}

// masterReady checks that the server c writes to is a master.
func masterReady(ctx context.Context, c redis.UniversalClient) error {
	role, err := redisRole(ctx, c)
	if err != nil {
		return &api.ReadinessError{Reason: "Redis does not answer.", Err: err}
	}
	if role != "master" {
		return &api.ReadinessError{Reason: "Redis is a read-only replica, not a master.", Err: fmt.Errorf("ROLE is %q", role)}
	}
	return nil
}

// redisRole returns the ROLE of the server c talks to: master, slave or
// sentinel. Where ROLE is refused (a managed Redis may rename it), it
// reads the role from INFO replication.
func redisRole(ctx context.Context, c redis.UniversalClient) (string, error) {
	reply, err := c.Do(ctx, "ROLE").Slice()
	if err == nil && len(reply) > 0 {
		if role, ok := reply[0].(string); ok {
			return role, nil
		}
	}
	if err != nil && !isReply(err) {
		return "", err
	}
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return "", err
	}
	if role := infoField(info, "role"); role != "" {
		return role, nil
	}
	return "", errors.New("neither ROLE nor INFO replication tells the server's role")
}

// isReply reports whether err is an error reply of the server, not a
// failure to reach it.
func isReply(err error) bool {
	var reply redis.Error
	return errors.As(err, &reply)
}

// clusterReady checks every master of the cluster, as its slot map stands
// now (reloaded first).
func clusterReady(ctx context.Context, cc *redis.ClusterClient) error {
	err := cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		info, err := n.ClusterInfo(ctx).Result()
		if err != nil {
			return &api.ReadinessError{Reason: "A master of the Redis Cluster does not answer.", Err: err}
		}
		return clusterInfoReady(info)
	})
	if err != nil && !errors.As(err, new(*api.ReadinessError)) {
		return &api.ReadinessError{Reason: "Redis does not answer.", Err: err}
	}
	return err
}

// clusterInfoReady reads a node's CLUSTER INFO: nil when the cluster is
// ok and every slot is assigned and served.
func clusterInfoReady(info string) error {
	state := infoField(info, "cluster_state")
	assigned, errA := strconv.Atoi(infoField(info, "cluster_slots_assigned"))
	served, errS := strconv.Atoi(infoField(info, "cluster_slots_ok"))
	if state == "" {
		state = "unknown"
	}
	switch {
	case state != "ok":
		return &api.ReadinessError{Reason: "The Redis Cluster reports cluster_state:" + state + "."}
	case errA != nil || errS != nil:
		return &api.ReadinessError{Reason: "The Redis Cluster does not tell how many slots it serves."}
	case assigned < clusterSlots:
		return &api.ReadinessError{Reason: fmt.Sprintf("%d of the Redis Cluster's %d slots have no master.", clusterSlots-assigned, clusterSlots)}
	case served < clusterSlots:
		return &api.ReadinessError{Reason: fmt.Sprintf("%d of the Redis Cluster's %d slots are on a failing master.", clusterSlots-served, clusterSlots)}
	}
	return nil
}

// infoField returns the value of name in the text of INFO or CLUSTER INFO
// (lines "name:value"), or "".
func infoField(info, name string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), name+":"); ok {
			return v
		}
	}
	return ""
}
