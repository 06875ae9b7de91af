// This file is a copy of cmd/newsletter/redis_target.go's parsing (package
// main there, so it cannot be imported), so that -redis takes exactly the
// URLs that NEWSLETTER_REDIS_URL does and the bench's own clients (the
// bench's, the baseline server's) are made as the service makes its own.
// Keep the two in step.

package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisKind says what NEWSLETTER_REDIS_URL points at.
type redisKind string

// The kinds of Redis the service runs on.
const (
	redisNode     redisKind = "node"     // redis://, rediss://, unix://: one server
	redisSentinel redisKind = "sentinel" // redis+sentinel://: the master that Sentinel names
	redisCluster  redisKind = "cluster"  // redis+cluster://: a Redis Cluster
)

// clusterReloadInterval is how stale a cluster client's slot map may grow
// before the next command reloads it in the background (go-redis's
// default is 60 s, and a MOVED reply reloads it too). At half a second,
// commands reach the new master within a second of a failover, or two
// when the first reload still asked a node that had not heard of it: a
// CLUSTER SLOTS twice a second while commands flow.
const clusterReloadInterval = 500 * time.Millisecond

// redisTarget is the Redis that NEWSLETTER_REDIS_URL names, parsed.
type redisTarget struct {
	Kind     redisKind
	Addrs    []string // the node, the sentinels, or the cluster's seed nodes
	Master   string   // the master's name behind Sentinel
	DB       int      // always 0 on a cluster
	Username string   // of the data nodes, not of the sentinels
	Password string
	TLS      bool

	node     *redis.Options
	failover *redis.FailoverOptions
	cluster  *redis.ClusterOptions
}

// parseRedisURL parses NEWSLETTER_REDIS_URL:
//
//	redis://[[user]:password@]host:port[/db]      one server (also rediss:// and unix://)
//	redis+sentinel://[[user]:password@]host:port,host:port,.../MASTER[/db][?sentinel_password=...]
//	redis+cluster://[[user]:password@]host:port,host:port,...
//
// rediss+sentinel:// and rediss+cluster:// speak TLS. The password is the
// data nodes'; sentinel_password (and sentinel_username) are the
// sentinels' own. go-redis's connection options (dial_timeout=3s,
// pool_size=20, protocol=3 ...) may follow in the query. Its errors name
// no password.
func parseRedisURL(raw string) (*redisTarget, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, fmt.Errorf("%q has no scheme such as redis://", redactURL(raw))
	}
	var t *redisTarget
	var err error
	switch strings.ToLower(scheme) {
	case "redis+sentinel", "rediss+sentinel":
		t, err = parseSentinelURL(scheme, rest)
	case "redis+cluster", "rediss+cluster":
		t, err = parseClusterURL(scheme, rest)
	case "redis", "rediss", "unix":
		t, err = parseNodeURL(raw)
	default:
		return nil, fmt.Errorf("unknown scheme %q (want redis://, rediss://, unix://, redis+sentinel:// or redis+cluster://)", scheme)
	}
	if err != nil {
		return nil, err
	}
	if !strings.Contains(raw, "protocol=") {
		// RESP2 unless the URL asks otherwise: the service uses no push
		// notifications, and with RESP3 go-redis looks for them before
		// every command.
		t.setProtocol(2)
	}
	return t, nil
}

func parseNodeURL(raw string) (*redisTarget, error) {
	opt, err := redis.ParseURL(raw)
	if err != nil {
		return nil, withoutURL(err)
	}
	return &redisTarget{Kind: redisNode, Addrs: []string{opt.Addr}, DB: opt.DB, Username: opt.Username,
		Password: opt.Password, TLS: opt.TLSConfig != nil, node: opt}, nil
}

// Query parameters the URL's other parts carry, or that would send writes
// or reads where the service does not expect them.
var (
	sentinelRefused = []string{"master_name", "addr", "db", "username", "password",
		"route_by_latency", "route_randomly", "replica_only", "use_disconnected_replicas"}
	clusterRefused = []string{"addr", "username", "password", "read_only", "route_by_latency", "route_randomly"}
)

func parseSentinelURL(scheme, rest string) (*redisTarget, error) {
	u, err := splitMultiHost(scheme, rest, sentinelRefused)
	if err != nil {
		return nil, err
	}
	master, dbText, _ := strings.Cut(u.path, "/")
	if master == "" {
		return nil, errors.New("names no master: write redis+sentinel://host:port,host:port/MASTER_NAME[/db]")
	}
	db := 0
	if dbText != "" {
		if db, err = strconv.Atoi(dbText); err != nil || db < 0 {
			return nil, fmt.Errorf("%q after the master name is not a database number", dbText)
		}
	}
	sentinelUser, sentinelPassword := u.query.Get("sentinel_username"), u.query.Get("sentinel_password")
	u.query.Del("sentinel_username")
	u.query.Del("sentinel_password")
	u.query.Set("master_name", master)
	for _, a := range u.addrs[1:] {
		u.query.Add("addr", a)
	}
	opt, err := redis.ParseFailoverURL(u.goRedisURL("/" + strconv.Itoa(db)))
	if err != nil {
		return nil, withoutURL(err)
	}
	opt.Username, opt.Password = u.username, u.password
	opt.SentinelUsername, opt.SentinelPassword = sentinelUser, sentinelPassword
	return &redisTarget{Kind: redisSentinel, Addrs: u.addrs, Master: master, DB: db,
		Username: u.username, Password: u.password, TLS: u.tls, failover: opt}, nil
}

func parseClusterURL(scheme, rest string) (*redisTarget, error) {
	u, err := splitMultiHost(scheme, rest, clusterRefused)
	if err != nil {
		return nil, err
	}
	if u.path != "" && u.path != "0" {
		return nil, fmt.Errorf("names database /%s, but a Redis Cluster has only database 0: leave it out", u.path)
	}
	for _, a := range u.addrs[1:] {
		u.query.Add("addr", a)
	}
	opt, err := redis.ParseClusterURL(u.goRedisURL(""))
	if err != nil {
		return nil, withoutURL(err)
	}
	opt.Username, opt.Password = u.username, u.password
	opt.ClusterStateReloadInterval = clusterReloadInterval
	return &redisTarget{Kind: redisCluster, Addrs: u.addrs, Username: u.username, Password: u.password,
		TLS: u.tls, cluster: opt}, nil
}

// multiHostURL is a URL whose host part lists addresses:
// scheme://[[user]:password@]host:port,host:port/path?query.
type multiHostURL struct {
	tls                bool
	username, password string
	addrs              []string
	path               string // without its leading slash
	query              url.Values
}

func splitMultiHost(scheme, rest string, refused []string) (*multiHostURL, error) {
	if strings.Contains(rest, "#") {
		return nil, errors.New(`has a "#": escape it as %23 in a password`)
	}
	rest, rawQuery, _ := strings.Cut(rest, "?")
	userHosts, path, _ := strings.Cut(rest, "/")
	u := &multiHostURL{tls: strings.HasPrefix(strings.ToLower(scheme), "rediss"), path: strings.TrimSuffix(path, "/")}
	hosts := userHosts
	if i := strings.LastIndex(userHosts, "@"); i >= 0 {
		hosts = userHosts[i+1:]
		user, password, _ := strings.Cut(userHosts[:i], ":")
		var err1, err2 error
		u.username, err1 = url.PathUnescape(user)
		u.password, err2 = url.PathUnescape(password)
		if err1 != nil || err2 != nil {
			return nil, errors.New("has a user or password with a bad %-escape")
		}
	}
	for _, a := range strings.Split(hosts, ",") {
		a = strings.TrimSpace(a)
		host, port, err := net.SplitHostPort(a)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%q is not an address such as 10.0.0.1:6379 (list them as host:port,host:port)", a)
		}
		u.addrs = append(u.addrs, net.JoinHostPort(host, port))
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, errors.New("has a query that cannot be read")
	}
	for _, name := range refused {
		if q.Has(name) {
			return nil, fmt.Errorf("takes no %s= option here", name)
		}
	}
	u.query = q
	return u, nil
}

// goRedisURL returns the URL go-redis's parsers read: the first address
// as host, the others in the query, and no user or password (the caller
// sets them: go-redis reads the userinfo of a failover URL as the
// sentinels').
func (u *multiHostURL) goRedisURL(path string) string {
	scheme := "redis"
	if u.tls {
		scheme = "rediss"
	}
	return (&url.URL{Scheme: scheme, Host: u.addrs[0], Path: path, RawQuery: u.query.Encode()}).String()
}

// withoutURL returns err without the URL (and its password) that a
// *url.Error repeats.
func withoutURL(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

func (t *redisTarget) setProtocol(p int) {
	switch t.Kind {
	case redisSentinel:
		t.failover.Protocol = p
	case redisCluster:
		t.cluster.Protocol = p
	default:
		t.node.Protocol = p
	}
}

// NewClient returns a client on the target: a plain client, a failover
// client that follows Sentinel's master, or a cluster client.
func (t *redisTarget) newClient() redis.UniversalClient {
	switch t.Kind {
	case redisSentinel:
		o := *t.failover
		return redis.NewFailoverClient(&o)
	case redisCluster:
		o := *t.cluster
		return redis.NewClusterClient(&o)
	}
	o := *t.node
	return redis.NewClient(&o)
}

// String names the target for messages, without user or password.
func (t *redisTarget) String() string {
	switch t.Kind {
	case redisSentinel:
		return fmt.Sprintf("the Redis master %q (Sentinel at %s)", t.Master, strings.Join(t.Addrs, ","))
	case redisCluster:
		return "the Redis Cluster at " + strings.Join(t.Addrs, ",")
	}
	return "Redis at " + t.Addrs[0]
}
