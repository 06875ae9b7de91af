package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// server is the real Redis that NEWSLETTER_TEST_REDIS_URL names: one
// server (redis://, rediss://, unix://), or the master of a Sentinel set
// (redis+sentinel://host:port,host:port/MASTER).
type server struct {
	addr string // for messages and the database-count cache
	// client returns a client on database db, whose read timeout is at
	// least readTimeout; behind Sentinel, a failover client.
	client func(db int, readTimeout time.Duration) *redis.Client
	url    func(db int) (string, error) // the URL of database db, in the form given
}

func serverOf(raw string) (*server, error) {
	if isSentinelURL(raw) {
		s, err := parseSentinelURL(raw)
		if err != nil {
			return nil, err
		}
		return &server{
			addr: fmt.Sprintf("master %s via Sentinel %s", s.opt.MasterName, strings.Join(s.opt.SentinelAddrs, ",")),
			client: func(db int, readTimeout time.Duration) *redis.Client {
				o := *s.opt
				o.DB, o.ReadTimeout = db, max(o.ReadTimeout, readTimeout)
				return redis.NewFailoverClient(&o)
			},
			url: func(db int) (string, error) { return s.withDB(db), nil },
		}, nil
	}
	base, err := redis.ParseURL(raw)
	if err != nil {
		return nil, err
	}
	return &server{
		addr: base.Addr,
		client: func(db int, readTimeout time.Duration) *redis.Client {
			o := *base
			o.DB, o.ReadTimeout = db, max(o.ReadTimeout, readTimeout)
			return redis.NewClient(&o)
		},
		url: func(db int) (string, error) { return withDB(raw, db) },
	}, nil
}

// ClientFor returns a client on the database that rawURL names, in any
// form that [URL] returns (redis://, unix://, or redis+sentinel://, where
// it is a failover client that follows the master), closed at cleanup. A
// Redis Cluster (redis+cluster://) needs [UniversalFor].
func ClientFor(tb testing.TB, rawURL string) *redis.Client {
	tb.Helper()
	if isClusterURL(rawURL) {
		tb.Fatalf("redistest: %s names a Redis Cluster, which no *redis.Client reaches whole: use UniversalFor or Universal", redactedHosts(rawURL))
	}
	c, ok := UniversalFor(tb, rawURL).(*redis.Client)
	if !ok {
		tb.Fatalf("redistest: no plain client for %s", redactedHosts(rawURL))
	}
	return c
}

// UniversalFor returns a client on what rawURL names, in any form that
// [URL] returns: a cluster client for redis+cluster://, a failover client
// that follows the master for redis+sentinel://, else a plain client. Like
// every client of this package it checks each script and transaction it
// runs with [SlotCheck], and it is closed at cleanup.
func UniversalFor(tb testing.TB, rawURL string) redis.UniversalClient {
	tb.Helper()
	var c redis.UniversalClient
	switch {
	case isClusterURL(rawURL):
		opt, err := parseClusterURL(rawURL)
		if err != nil {
			tb.Fatalf("redistest: %v", err)
		}
		c = redis.NewClusterClient(opt)
	case isSentinelURL(rawURL):
		s, err := parseSentinelURL(rawURL)
		if err != nil {
			tb.Fatalf("redistest: %v", err)
		}
		c = redis.NewFailoverClient(s.opt)
	default:
		opt, err := redis.ParseURL(rawURL)
		if err != nil {
			tb.Fatalf("redistest: %v", err)
		}
		c = redis.NewClient(opt)
	}
	c.AddHook(SlotCheck(tb))
	tb.Cleanup(func() { c.Close() })
	return c
}

// redactedHosts returns rawURL up to its path, without a password.
func redactedHosts(rawURL string) string {
	head, _, _ := strings.Cut(rawURL, "?")
	scheme, rest, _ := strings.Cut(head, "://")
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	return scheme + "://" + rest
}

// optionsFor returns the options of a plain client on the database that
// rawURL names; behind Sentinel, on the master of the moment.
func optionsFor(rawURL string) (*redis.Options, error) {
	if isClusterURL(rawURL) {
		return nil, fmt.Errorf("%s names a Redis Cluster, which no one server's options reach: use Universal", redactedHosts(rawURL))
	}
	if !isSentinelURL(rawURL) {
		return redis.ParseURL(rawURL)
	}
	s, err := parseSentinelURL(rawURL)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, addr := range s.opt.SentinelAddrs {
		sc := redis.NewSentinelClient(&redis.Options{Addr: addr, Username: s.opt.SentinelUsername, Password: s.opt.SentinelPassword})
		master, err := sc.GetMasterAddrByName(ctx, s.opt.MasterName).Result()
		sc.Close()
		if err == nil && len(master) == 2 {
			return &redis.Options{Addr: net.JoinHostPort(master[0], master[1]), Username: s.opt.Username,
				Password: s.opt.Password, DB: s.opt.DB}, nil
		}
		errs = append(errs, fmt.Errorf("sentinel %s: %v", addr, err))
	}
	return nil, fmt.Errorf("no sentinel names master %s: %w", s.opt.MasterName, errors.Join(errs...))
}

func isSentinelURL(raw string) bool {
	return strings.HasPrefix(strings.ToLower(raw), "redis+sentinel://")
}

// sentinelURL is a parsed redis+sentinel://[[user]:password@]host:port,
// host:port/MASTER[/db][?sentinel_password=...] (the password is the
// master's).
type sentinelURL struct {
	raw string
	opt *redis.FailoverOptions
}

func parseSentinelURL(raw string) (*sentinelURL, error) {
	rest := raw[len("redis+sentinel://"):]
	rest, query, _ := strings.Cut(rest, "?")
	userHosts, path, _ := strings.Cut(rest, "/")
	opt := &redis.FailoverOptions{}
	hosts := userHosts
	if i := strings.LastIndex(userHosts, "@"); i >= 0 {
		hosts = userHosts[i+1:]
		user, password, _ := strings.Cut(userHosts[:i], ":")
		opt.Username, _ = url.PathUnescape(user)
		opt.Password, _ = url.PathUnescape(password)
	}
	for _, a := range strings.Split(hosts, ",") {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("%q in a redis+sentinel URL is not host:port", a)
		}
		opt.SentinelAddrs = append(opt.SentinelAddrs, a)
	}
	master, db, _ := strings.Cut(strings.TrimSuffix(path, "/"), "/")
	if master == "" {
		return nil, errors.New("a redis+sentinel URL names no master: want redis+sentinel://host:port,.../MASTER[/db]")
	}
	opt.MasterName = master
	if db != "" {
		n, err := strconv.Atoi(db)
		if err != nil {
			return nil, fmt.Errorf("%q in a redis+sentinel URL is not a database number", db)
		}
		opt.DB = n
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, err
	}
	opt.SentinelUsername, opt.SentinelPassword = q.Get("sentinel_username"), q.Get("sentinel_password")
	return &sentinelURL{raw: raw, opt: opt}, nil
}

// withDB returns the URL naming database db (after the master's name).
func (s *sentinelURL) withDB(db int) string {
	head, query, hasQuery := strings.Cut(s.raw, "?")
	scheme := head[:len("redis+sentinel://")]
	userHosts, _, _ := strings.Cut(head[len(scheme):], "/")
	out := scheme + userHosts + "/" + s.opt.MasterName + "/" + strconv.Itoa(db)
	if hasQuery {
		out += "?" + query
	}
	return out
}
