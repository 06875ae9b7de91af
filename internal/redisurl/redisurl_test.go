package redisurl

import (
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestParseOptions checks the go-redis options each form builds:
// whose password is whose, RESP2 unless asked, the cluster's reload.
func TestParseOptions(t *testing.T) {
	t.Parallel()
	s, err := Parse("redis+sentinel://u:master-pw@h1:26379,h2:26379/mymaster/4?sentinel_username=su&sentinel_password=sentinel-pw&dial_timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	f := s.failover
	if f.MasterName != "mymaster" || !slices.Equal(f.SentinelAddrs, []string{"h1:26379", "h2:26379"}) || f.DB != 4 ||
		f.Username != "u" || f.Password != "master-pw" || f.SentinelUsername != "su" || f.SentinelPassword != "sentinel-pw" ||
		f.DialTimeout != 2*time.Second || f.Protocol != 2 || f.TLSConfig != nil {
		t.Errorf("failover options %+v", f)
	}
	c, err := Parse("rediss+cluster://:pw@h1:7000,h2:7001?protocol=3")
	if err != nil {
		t.Fatal(err)
	}
	o := c.cluster
	if !slices.Equal(o.Addrs, []string{"h1:7000", "h2:7001"}) || o.Password != "pw" || o.Protocol != 3 || o.TLSConfig == nil ||
		o.ClusterStateReloadInterval != ClusterReloadInterval || o.ReadOnly {
		t.Errorf("cluster options %+v", o)
	}
	n, err := Parse("redis://127.0.0.1:6379/1")
	if err != nil {
		t.Fatal(err)
	}
	if n.node.Protocol != 2 || n.node.DB != 1 {
		t.Errorf("node options %+v", n.node)
	}
	for _, target := range []*Target{s, c, n} {
		rdb := target.NewClient()
		switch rdb.(type) {
		case *redis.ClusterClient:
			if target.Kind != Cluster {
				t.Errorf("%s: a cluster client", target.Kind)
			}
		case *redis.Client:
			if target.Kind == Cluster {
				t.Errorf("%s: not a cluster client", target.Kind)
			}
		}
		rdb.Close()
	}
}
