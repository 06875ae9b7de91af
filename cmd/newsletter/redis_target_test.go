package main

import (
	"slices"
	"strings"
	"testing"
)

func TestParseRedisURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url  string
		want RedisTarget
	}{
		{"redis://127.0.0.1:6379/2", RedisTarget{Kind: RedisNode, Addrs: []string{"127.0.0.1:6379"}, DB: 2}},
		{"rediss://:pw@redis.example.org:6380", RedisTarget{Kind: RedisNode, Addrs: []string{"redis.example.org:6380"}, Password: "pw", TLS: true}},
		{"redis+sentinel://10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379/mymaster",
			RedisTarget{Kind: RedisSentinel, Addrs: []string{"10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"}, Master: "mymaster"}},
		{"redis+sentinel://:p%40ss@10.0.0.1:26379/mymaster/3?sentinel_password=sp",
			RedisTarget{Kind: RedisSentinel, Addrs: []string{"10.0.0.1:26379"}, Master: "mymaster", DB: 3, Password: "p@ss"}},
		{"redis+sentinel://news:pw@[::1]:26379,[::1]:26380/main/0/?dial_timeout=2s",
			RedisTarget{Kind: RedisSentinel, Addrs: []string{"[::1]:26379", "[::1]:26380"}, Master: "main", Username: "news", Password: "pw"}},
		{"rediss+sentinel://s1.example.org:26379/mymaster/1",
			RedisTarget{Kind: RedisSentinel, Addrs: []string{"s1.example.org:26379"}, Master: "mymaster", DB: 1, TLS: true}},
		{"redis+cluster://10.0.0.1:7000,10.0.0.2:7000",
			RedisTarget{Kind: RedisCluster, Addrs: []string{"10.0.0.1:7000", "10.0.0.2:7000"}}},
		{"redis+cluster://:pw@10.0.0.1:7000/?pool_size=20",
			RedisTarget{Kind: RedisCluster, Addrs: []string{"10.0.0.1:7000"}, Password: "pw"}},
		{"REDISS+CLUSTER://10.0.0.1:7000/0", RedisTarget{Kind: RedisCluster, Addrs: []string{"10.0.0.1:7000"}, TLS: true}},
	}
	for _, tt := range tests {
		got, err := ParseRedisURL(tt.url)
		if err != nil {
			t.Errorf("%s: %v", tt.url, err)
			continue
		}
		if got.Kind != tt.want.Kind || !slices.Equal(got.Addrs, tt.want.Addrs) || got.Master != tt.want.Master || got.DB != tt.want.DB ||
			got.Username != tt.want.Username || got.Password != tt.want.Password || got.TLS != tt.want.TLS {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.url, *got, tt.want)
		}
	}
}

func TestParseRedisURLRefusesBadForms(t *testing.T) {
	t.Parallel()
	tests := []struct{ url, want string }{
		{"127.0.0.1:6379", "has no scheme"},
		{"redis+sentinels://h:26379/m", "unknown scheme"},
		{"redis+sentinel://h1:26379,h2:26379", "names no master"},
		{"redis+sentinel://h1:26379,h2:26379/", "names no master"},
		{"redis+sentinel://h1:26379/mymaster/x", "not a database number"},
		{"redis+sentinel://h1:26379/mymaster/-1", "not a database number"},
		{"redis+sentinel://h1/mymaster", `"h1" is not an address`},
		{"redis+sentinel://h1:26379,,h2:26379/mymaster", `"" is not an address`},
		{"redis+sentinel://h1:99999/mymaster", `"h1:99999" is not an address`},
		{"redis+sentinel://h1:26379/mymaster?route_randomly=true", "takes no route_randomly= option"},
		{"redis+sentinel://h1:26379/mymaster?replica_only=true", "takes no replica_only= option"},
		{"redis+sentinel://h1:26379/mymaster?password=x", "takes no password= option"},
		{"redis+sentinel://h1:26379/mymaster?no_such_option=1", "unexpected option"},
		{"redis+cluster://", `"" is not an address`},
		{"redis+cluster://h1:7000,h2:7000/1", "only database 0"},
		{"redis+cluster://h1:7000?read_only=true", "takes no read_only= option"},
		{"redis+cluster://h1:7000?pool_size=many", "pool_size"},
		{"redis+cluster://:pw#1@h1:7000", `has a "#"`},
		{"redis+cluster://h1:7000?%zz", "query"},
	}
	for _, tt := range tests {
		_, err := ParseRedisURL(tt.url)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error saying %q", tt.url, err, tt.want)
		}
	}
}

// TestLoadConfigRedisForms: a bad form stops LoadConfig with one line
// naming NEWSLETTER_REDIS_URL, and no password in it.
func TestLoadConfigRedisForms(t *testing.T) {
	t.Parallel()
	env := func(url string) func(string) string {
		m := map[string]string{"NEWSLETTER_REDIS_URL": url, "NEWSLETTER_SECRET": "0123456789abcdef", "NEWSLETTER_API_TOKENS": "a-test-editor-token-of-32-characters"}
		return func(k string) string { return m[k] }
	}
	for _, good := range []string{"redis+sentinel://:pw@127.0.0.1:26379/mymaster/2", "redis+cluster://127.0.0.1:7000,127.0.0.1:7001"} {
		cfg, err := LoadConfig(env(good))
		if err != nil || cfg.Redis == nil || cfg.DevMode() {
			t.Errorf("%s: %v", good, err)
		}
	}
	for _, bad := range []string{"redis+sentinel://:s3cr3t@127.0.0.1:26379", "redis+cluster://:s3cr3t@127.0.0.1:7000/5",
		"redis+sentinel://:s3cr3t@127.0.0.1/mymaster", "redis+cluster://:s3cr3t@h:7000?x=1"} {
		_, err := LoadConfig(env(bad))
		if err == nil || strings.Count(err.Error(), "\n") != 0 || !strings.HasPrefix(err.Error(), "NEWSLETTER_REDIS_URL: ") ||
			strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: %v, want one line naming NEWSLETTER_REDIS_URL, without the password", bad, err)
		}
	}
}
