package main

import (
	"errors"
	"strings"
	"testing"

	"newsletter/api"
)

func TestClusterInfoReady(t *testing.T) {
	t.Parallel()
	info := func(state string, assigned, ok string) string {
		return "cluster_state:" + state + "\r\ncluster_slots_assigned:" + assigned + "\r\ncluster_slots_ok:" + ok +
			"\r\ncluster_slots_pfail:0\r\ncluster_known_nodes:6\r\n"
	}
	tests := []struct{ info, reason string }{
		{info("ok", "16384", "16384"), ""},
		{info("fail", "16384", "16384"), "The Redis Cluster reports cluster_state:fail."},
		{info("ok", "16383", "16383"), "1 of the Redis Cluster's 16384 slots have no master."},
		{info("ok", "16384", "10923"), "5461 of the Redis Cluster's 16384 slots are on a failing master."},
		{"cluster_state:ok\r\n", "The Redis Cluster does not tell how many slots it serves."},
		{"", "The Redis Cluster reports cluster_state:unknown."},
	}
	for _, tt := range tests {
		err := clusterInfoReady(tt.info)
		var rerr *api.ReadinessError
		switch {
		case tt.reason == "" && err != nil:
			t.Errorf("%q: %v, want ready", tt.info, err)
		case tt.reason != "" && (!errors.As(err, &rerr) || rerr.Reason != tt.reason):
			t.Errorf("%q: %v, want the reason %q", tt.info, err, tt.reason)
		}
	}
}

func TestInfoField(t *testing.T) {
	t.Parallel()
	info := "# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\n"
	if got := infoField(info, "role"); got != "slave" {
		t.Errorf("role = %q", got)
	}
	if got := infoField(info, "master"); got != "" {
		t.Errorf("master = %q, want nothing (no such field)", got)
	}
	if got := infoField(strings.ReplaceAll(info, "\r", ""), "master_host"); got != "127.0.0.1" {
		t.Errorf("master_host = %q", got)
	}
}
