// Package redisurl parses the Redis URLs the service takes in
// NEWSLETTER_REDIS_URL (one node, Sentinel, Cluster) and makes the one
// go-redis client each names; the bench parses its -redis flag with it.
package redisurl

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

// Kind says what NEWSLETTER_REDIS_URL points at.
type Kind string

// The kinds of Redis the service runs on.
const (
	Node     Kind = "node"     // redis://, rediss://, unix://: one server
	Sentinel Kind = "sentinel" // redis+sentinel://: the master that Sentinel names
	Cluster  Kind = "cluster"  // redis+cluster://: a Redis Cluster
)

// ClusterReloadInterval is how stale a cluster client's slot map may grow
// before the next command reloads it in the background (go-redis's
// default is 60 s, and a MOVED reply reloads it too). At half a second,
// commands reach the new master within a second of a failover, or two
// when the first reload still asked a node that had not heard of it: a
// CLUSTER SLOTS twice a second while commands flow.
const ClusterReloadInterval = 500 * time.Millisecond

// Target is the Redis that NEWSLETTER_REDIS_URL names, parsed.
type Target struct {
	Kind     Kind
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

// Parse parses NEWSLETTER_REDIS_URL:
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
func Parse(raw string) (*Target, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, errors.New(NoScheme(raw, "redis://"))
	}
	var t *Target
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

func parseNodeURL(raw string) (*Target, error) {
	opt, err := redis.ParseURL(raw)
	if err != nil {
		return nil, withoutURL(err)
	}
	return &Target{Kind: Node, Addrs: []string{opt.Addr}, DB: opt.DB, Username: opt.Username,
		Password: opt.Password, TLS: opt.TLSConfig != nil, node: opt}, nil
}

// Query parameters the URL's other parts carry, or that would send writes
// or reads where the service does not expect them.
var (
	sentinelRefused = []string{"master_name", "addr", "db", "username", "password",
		"route_by_latency", "route_randomly", "replica_only", "use_disconnected_replicas"}
	clusterRefused = []string{"addr", "username", "password", "read_only", "route_by_latency", "route_randomly"}
)

func parseSentinelURL(scheme, rest string) (*Target, error) {
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
	return &Target{Kind: Sentinel, Addrs: u.addrs, Master: master, DB: db,
		Username: u.username, Password: u.password, TLS: u.tls, failover: opt}, nil
}

func parseClusterURL(scheme, rest string) (*Target, error) {
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
	opt.ClusterStateReloadInterval = ClusterReloadInterval
	return &Target{Kind: Cluster, Addrs: u.addrs, Username: u.username, Password: u.password,
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

func (t *Target) setProtocol(p int) {
	switch t.Kind {
	case Sentinel:
		t.failover.Protocol = p
	case Cluster:
		t.cluster.Protocol = p
	default:
		t.node.Protocol = p
	}
}

// NewClient returns a client on the target: a plain client, a failover
// client that follows Sentinel's master, or a cluster client.
func (t *Target) NewClient() redis.UniversalClient {
	switch t.Kind {
	case Sentinel:
		o := *t.failover
		return redis.NewFailoverClient(&o)
	case Cluster:
		o := *t.cluster
		return redis.NewClusterClient(&o)
	}
	o := *t.node
	return redis.NewClient(&o)
}

// withDB returns the target on database db instead; a cluster has only 0.
func (t *Target) WithDB(db int) *Target {
	c := *t
	c.DB = db
	switch t.Kind {
	case Sentinel:
		o := *t.failover
		o.DB = db
		c.failover = &o
	case Node:
		o := *t.node
		o.DB = db
		c.node = &o
	}
	return &c
}

// String names the target for messages, without user or password.
func (t *Target) String() string {
	switch t.Kind {
	case Sentinel:
		return fmt.Sprintf("the Redis master %q (Sentinel at %s)", t.Master, strings.Join(t.Addrs, ","))
	case Cluster:
		return "the Redis Cluster at " + strings.Join(t.Addrs, ",")
	}
	return "Redis at " + t.Addrs[0]
}

// nodeTarget returns the target of one server with options opt.
func NodeTarget(opt *redis.Options) *Target {
	return &Target{Kind: Node, Addrs: []string{opt.Addr}, DB: opt.DB, node: opt}
}

// NoScheme says that raw, an address written without its scheme, needs
// one, and shows it with scheme in front, its user and password left out.
func NoScheme(raw, scheme string) string {
	shown := raw
	if i := strings.LastIndex(raw, "@"); i >= 0 {
		shown = "USER:PASSWORD" + raw[i:]
	}
	if scheme == "redis://" && strings.HasPrefix(raw, "/") {
		scheme = "unix://"
	}
	return fmt.Sprintf("%q has no scheme; write %s%s", shown, scheme, shown)
}

// SentinelOptions are the options for a client of one of the sentinels of
// a Sentinel target (its credentials and TLS), nil for other kinds.
func (t *Target) SentinelOptions(addr string) *redis.Options {
	if t.failover == nil {
		return nil
	}
	return &redis.Options{Addr: addr, Username: t.failover.SentinelUsername, Password: t.failover.SentinelPassword,
		TLSConfig: t.failover.TLSConfig, MaxRetries: -1}
}
