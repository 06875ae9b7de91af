// Package redistest hands each test a Redis database of its own, so that
// tests may run in parallel (t.Parallel, several packages at once, the
// worker processes of go test -fuzz) without one flushing or reading
// another's data.
//
// With NEWSLETTER_TEST_REDIS_URL set (e.g. redis://127.0.0.1:6379), tests
// share that real server. Databases 1 to 15 (1 to n-1 when the server is
// configured with n databases) form a pool; database 0 holds only the
// lease keys newsletter:test:lease:N. The first call of [Client],
// [Options], [URL] or [DB] in a test leases a free database for that test:
//
//   - it claims database N with SET newsletter:test:lease:N <owner> NX PX 60000
//     in database 0, where owner is random and names the process and test;
//   - it flushes database N, which a crashed owner may have left dirty;
//   - a goroutine extends the lease every 15 s while it is still the
//     test's own, so a process killed mid-test frees its databases within
//     60 s;
//   - at the test's cleanup it stops that goroutine and waits for it,
//     flushes database N and deletes the lease key, both only if the lease
//     is still the test's own. A lease that was lost during the test (the
//     process was stopped for over a minute) fails the test instead.
//
// When every database is leased, the call waits, polling every 50-100 ms,
// and fails the test after 2 minutes. Run fewer tests at once (-p,
// -parallel) or start the server with more databases (--databases 64) if
// that happens.
//
// Later calls in the same test return the same database, so that a test
// that passes [URL] to the code under test and checks the result with
// [Client] sees one set of data. Subtests (t.Run) and each iteration of a
// fuzz target are tests of their own and get databases of their own. A
// *testing.F may lease one too, held until the fuzz target ends (each -fuzz
// worker process leases its own); a *testing.B runs its cleanup after each
// round of b.N, so each round leases afresh.
//
// The lease's cleanup is registered by the first call, so cleanups the
// test registers later (closing clients, stopping servers on the URL) run
// before the database is flushed and handed on. Nothing may use the
// database after the test's cleanup: the next test to lease it would see
// that data.
//
// The server may be one node (redis://, rediss://, unix://) or the master
// behind Sentinel: with redis+sentinel://host:port,host:port/MASTER in the
// variable, the leases and the test's databases are on the master of the
// moment, [URL] keeps that form (redis+sentinel://.../MASTER/N), [Client]
// is a failover client, and [Options] name the master's address.
//
// It may also be a Redis Cluster: redis+cluster://host:port,host:port,...
// A cluster has only database 0, so the pool is the whole cluster, under
// one lease (newsletter:test:lease:{cluster}, claimed, refreshed and
// released as above) that one test holds at a time: run such tests with
// go test -parallel 1, one package at a time, or they wait for each other
// and fail after 2 minutes. The holder's claim and its cleanup empty every
// master but for the lease key (FLUSHDB; the replicas follow). [URL]
// returns the variable as it is and [DB] 0; [Universal] and
// [UniversalFor] give a cluster client, while [Client], [ClientFor] and
// [Options], which are one server's, fail the test there.
//
// [Universal] (and [UniversalFor] for a URL) is the client for code that
// runs on every topology: a plain, failover or cluster client.
//
// [StartCluster] and [StartSentinel] start real topologies from
// redis-server on loopback for a test of its own (a Redis Cluster of three
// masters and three replicas; a master, two replicas and three
// sentinels), killed at its cleanup, with ways to fail them over.
//
// With the variable unset, each test gets an embedded server (miniredis)
// of its own, closed at cleanup; [DB] reports 1 there.
package redistest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// URLVar names the variable that points tests at a real Redis, e.g.
// redis://127.0.0.1:6379. A database number in it is ignored: each test
// leases its own.
const URLVar = "NEWSLETTER_TEST_REDIS_URL"

const (
	leasePrefix = "newsletter:test:lease:"
	leaseTTL    = 60 * time.Second
	refreshEach = 15 * time.Second
	waitLimit   = 2 * time.Minute
	// miniredisDB is the database tests use on an embedded server: not 0,
	// as on the real server, so that code which drops the database number
	// fails there too.
	miniredisDB = 1
)

// Client returns a client on the test's own database, closed at cleanup
// (behind Sentinel, a failover client that follows the master).
func Client(tb testing.TB) *redis.Client {
	tb.Helper()
	return ClientFor(tb, URL(tb))
}

// Universal returns a client on the test's own database, or on a Redis
// Cluster the test holds, closed at cleanup: a plain, failover or cluster
// client as [UniversalFor] makes them. Code that must run on every
// topology takes this one.
func Universal(tb testing.TB) redis.UniversalClient {
	tb.Helper()
	return UniversalFor(tb, URL(tb))
}

// Options returns connection options for the test's own database (in
// opt.DB); each call returns a new *redis.Options the caller may change.
// Behind Sentinel they name the master of the moment.
func Options(tb testing.TB) *redis.Options {
	tb.Helper()
	e := get(tb, leaseConfig{})
	opt, err := optionsFor(e.url)
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	return opt
}

// URL returns a URL for the test's own database: NEWSLETTER_TEST_REDIS_URL
// with the database number replaced (in the path, or in db= for a unix
// socket), or redis://host:port/1 for an embedded server.
func URL(tb testing.TB) string {
	tb.Helper()
	return get(tb, leaseConfig{}).url
}

// DB returns the number of the test's own database.
func DB(tb testing.TB) int {
	tb.Helper()
	return get(tb, leaseConfig{}).db
}

// MustOptions returns [Options](tb).
//
// Deprecated: use [Options]. db is ignored: the test gets a database of its
// own, the same for every call in the test.
func MustOptions(tb testing.TB, db int) *redis.Options {
	tb.Helper()
	return Options(tb)
}

// MustClient returns [Client](tb).
//
// Deprecated: use [Client]. db is ignored: the test gets a database of its
// own, the same for every call in the test.
func MustClient(tb testing.TB, db int) *redis.Client {
	tb.Helper()
	return Client(tb)
}

// MustURL returns [URL](tb).
//
// Deprecated: use [URL]. db is ignored: the test gets a database of its
// own, the same for every call in the test.
func MustURL(tb testing.TB, db int) string {
	tb.Helper()
	return URL(tb)
}

// leaseConfig tunes a lease; the zero value is what the exported functions
// use. Only this package's tests set it.
type leaseConfig struct {
	candidates []int         // databases to lease from; nil for all of 1..n-1
	wait       time.Duration // how long to wait for a free one; 0 for waitLimit
	ttl        time.Duration // 0 for leaseTTL
	refresh    time.Duration // 0 for refreshEach
}

// durations returns the lease's TTL, how long to wait for a free one and
// how often to refresh it, with the defaults for zero values.
func (cfg leaseConfig) durations() (ttl, wait, refresh time.Duration) {
	ttl, wait, refresh = cfg.ttl, cfg.wait, cfg.refresh
	if ttl <= 0 {
		ttl = leaseTTL
	}
	if wait <= 0 {
		wait = waitLimit
	}
	if refresh <= 0 {
		refresh = refreshEach
	}
	return ttl, wait, refresh
}

// entry is a test's database.
type entry struct {
	ready chan struct{} // closed once url and db, or err, are set
	url   string
	db    int
	err   error
}

var (
	mu      sync.Mutex
	entries = map[testing.TB]*entry{}
)

// get returns tb's database, leasing one on tb's first call.
func get(tb testing.TB, cfg leaseConfig) *entry {
	tb.Helper()
	mu.Lock()
	e, ok := entries[tb]
	if !ok {
		e = &entry{ready: make(chan struct{})}
		entries[tb] = e
	}
	mu.Unlock()
	if ok {
		<-e.ready
		if e.err != nil {
			tb.Fatalf("redistest: %v", e.err)
		}
		return e
	}

	forget := func() {
		mu.Lock()
		if entries[tb] == e {
			delete(entries, tb)
		}
		mu.Unlock()
	}
	var release func()
	func() {
		defer close(e.ready)
		defer func() {
			if release == nil && e.err == nil {
				e.err = errors.New("leasing a database did not finish")
			}
			if e.err != nil {
				forget()
			}
		}()
		e.url, e.db, release, e.err = open(tb, cfg)
	}()
	if e.err != nil {
		tb.Fatalf("redistest: %v", e.err)
	}
	tb.Cleanup(func() {
		release()
		forget()
	})
	return e
}

// open leases a database for tb: on the server named by URLVar, else on a
// new embedded server. release gives it back.
func open(tb testing.TB, cfg leaseConfig) (rawURL string, db int, release func(), err error) {
	raw := os.Getenv(URLVar)
	if raw == "" {
		m := miniredis.NewMiniRedis()
		if err := m.Start(); err != nil {
			return "", 0, nil, fmt.Errorf("start miniredis: %w", err)
		}
		return "redis://" + m.Addr() + "/" + strconv.Itoa(miniredisDB), miniredisDB, m.Close, nil
	}
	if isClusterURL(raw) {
		l, err := claimCluster(tb, raw, cfg)
		if err != nil {
			return "", 0, nil, err
		}
		return raw, 0, func() { l.release(tb) }, nil
	}
	srv, err := serverOf(raw)
	if err != nil {
		return "", 0, nil, fmt.Errorf("%s: %w", URLVar, err)
	}
	l, err := claim(tb, srv, cfg)
	if err != nil {
		return "", 0, nil, err
	}
	rawURL, err = srv.url(l.db)
	if err != nil {
		l.release(tb)
		return "", 0, nil, err
	}
	return rawURL, l.db, func() { l.release(tb) }, nil
}

// withDB returns raw, a Redis URL, naming database db instead.
func withDB(raw string, db int) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%s: %w", URLVar, err)
	}
	q := u.Query()
	q.Del("db")
	if u.Scheme == "unix" {
		q.Set("db", strconv.Itoa(db))
	} else {
		u.Path, u.RawPath = "/"+strconv.Itoa(db), ""
	}
	u.RawQuery = q.Encode()
	s := u.String()
	if opt, err := redis.ParseURL(s); err != nil || opt.DB != db {
		return "", fmt.Errorf("%s: cannot name database %d in it (got %s, %v)", URLVar, db, u.Redacted(), err)
	}
	return s, nil
}

func leaseKey(db int) string { return leasePrefix + strconv.Itoa(db) }

var (
	// claimScript sets the first free lease key of KEYS to ARGV[1] for
	// ARGV[2] milliseconds and returns its index (from 1), or 0 when all
	// are taken.
	claimScript = redis.NewScript(`
for i, key in ipairs(KEYS) do
	if redis.call('SET', key, ARGV[1], 'NX', 'PX', ARGV[2]) then
		return i
	end
end
return 0`)
	// extendScript sets the lease KEYS[1] to expire in ARGV[2] ms if it is
	// still ARGV[1]'s, and returns 1, or 0 when it is not.
	extendScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`)
	// releaseScript deletes the lease KEYS[1] if it is still ARGV[1]'s.
	releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0`)
)

// lease is a database, or a whole cluster, leased on a real server.
type lease struct {
	admin redis.UniversalClient           // where the lease key is
	flush func(ctx context.Context) error // empties what the lease holds
	close func()                          // closes the clients
	what  string                          // "database N" or the cluster, for messages
	db    int                             // the database leased; 0 on a cluster
	key   string
	owner string
	ttl   time.Duration
	stop  context.CancelFunc
	done  chan struct{} // closed when the refresher has returned
	lost  atomic.Bool   // the refresher found the lease someone else's
}

// claim leases a free database of srv, flushes it, and starts refreshing
// the lease.
func claim(tb testing.TB, srv *server, cfg leaseConfig) (*lease, error) {
	ttl, wait, refresh := cfg.durations()
	ctx := context.Background()
	admin := srv.client(0, 0)
	ok := false
	defer func() {
		if !ok {
			admin.Close()
		}
	}()
	if err := admin.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("%s (%s): %w", URLVar, srv.addr, err)
	}
	candidates := cfg.candidates
	if candidates == nil {
		n := databases(ctx, srv.addr, admin)
		if n < 2 {
			return nil, fmt.Errorf("%s (%s) has %d database(s): need database 0 for leases and at least one more", URLVar, srv.addr, n)
		}
		for db := 1; db < n; db++ {
			candidates = append(candidates, db)
		}
	}
	if len(candidates) == 0 {
		return nil, errors.New("no database to lease")
	}

	owner := newOwner(tb)
	key, err := acquire(ctx, tb, admin, func() []string {
		// Try the databases from a random one on, so that waiting tests do
		// not all compete for the same one.
		off := mrand.IntN(len(candidates))
		order := append(append([]int(nil), candidates[off:]...), candidates[:off]...)
		keys := make([]string, len(order))
		for i, n := range order {
			keys[i] = leaseKey(n)
		}
		return keys
	}, owner, ttl, wait, fmt.Sprintf("one of the %d databases of %s", len(candidates), srv.addr))
	if err != nil {
		return nil, fmt.Errorf("lease a database on %s: %w", srv.addr, err)
	}
	if key == "" {
		return nil, fmt.Errorf("all %d databases of %s stayed leased to other tests for %v (%s); "+
			"run fewer tests at once (-p, -parallel) or give the server more databases (--databases)",
			len(candidates), srv.addr, wait, holders(ctx, admin, candidates))
	}
	db, _ := strconv.Atoi(strings.TrimPrefix(key, leasePrefix))

	// A FLUSHDB of many keys may outlast the default 3 s; the lease has a
	// full TTL left when it runs.
	data := srv.client(db, ttl/2)
	l := &lease{
		admin: admin,
		flush: func(ctx context.Context) error { return data.FlushDB(ctx).Err() },
		close: func() { data.Close(); admin.Close() },
		what:  "database " + strconv.Itoa(db),
		db:    db,
		key:   key,
		owner: owner,
		ttl:   ttl,
		done:  make(chan struct{}),
	}
	if err := l.flush(ctx); err != nil {
		data.Close()
		releaseScript.Run(ctx, admin, []string{l.key}, owner)
		if strings.Contains(strings.ToLower(err.Error()), "cluster") {
			err = fmt.Errorf("%w (a Redis Cluster, which has only database 0, takes a redis+cluster:// URL)", err)
		}
		return nil, fmt.Errorf("flush database %d of %s: %w", db, srv.addr, err)
	}
	l.start(refresh)
	ok = true
	return l, nil
}

// newOwner returns a random owner for a lease that names the process and
// the test.
func newOwner(tb testing.TB) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s pid %d on %s: %s", rand.Text(), os.Getpid(), host, tb.Name())
}

// acquire claims for owner, for ttl, the first free lease key of those
// keys returns, polling every 50-100 ms, and returns it; or "" when they
// all stayed taken for wait. After 5 s of waiting it logs that it waits
// for what.
func acquire(ctx context.Context, tb testing.TB, admin redis.UniversalClient, keys func() []string,
	owner string, ttl, wait time.Duration, what string) (string, error) {
	start := time.Now()
	logged := false
	for {
		ks := keys()
		i, err := claimScript.Run(ctx, admin, ks, owner, ttl.Milliseconds()).Int()
		if err != nil {
			return "", err
		}
		if i > 0 {
			return ks[i-1], nil
		}
		waited := time.Since(start)
		if waited >= wait {
			return "", nil
		}
		if !logged && waited >= 5*time.Second {
			tb.Logf("redistest: waiting for %s to be free", what)
			logged = true
		}
		time.Sleep(50*time.Millisecond + mrand.N(50*time.Millisecond))
	}
}

// start starts refreshing the lease every interval.
func (l *lease) start(interval time.Duration) {
	var ctx context.Context
	ctx, l.stop = context.WithCancel(context.Background())
	go l.refresh(ctx, interval)
}

// databaseCounts caches the number of databases by server address.
var databaseCounts sync.Map

// databases returns how many databases the server addr, reached by c,
// has: its "databases" setting, or Redis's default of 16 where CONFIG is
// refused.
func databases(ctx context.Context, addr string, c *redis.Client) int {
	if n, ok := databaseCounts.Load(addr); ok {
		return n.(int)
	}
	n := 16
	if cfg, err := c.ConfigGet(ctx, "databases").Result(); err == nil {
		if v, err := strconv.Atoi(cfg["databases"]); err == nil {
			n = v
		}
	}
	databaseCounts.Store(addr, n)
	return n
}

// holders lists who holds the leases on dbs, for a timeout's message.
func holders(ctx context.Context, admin *redis.Client, dbs []int) string {
	keys := make([]string, len(dbs))
	for i, db := range dbs {
		keys[i] = leaseKey(db)
	}
	vals, err := admin.MGet(ctx, keys...).Result()
	if err != nil {
		return "holders unknown: " + err.Error()
	}
	var b strings.Builder
	b.WriteString("holders:")
	for i, v := range vals {
		if s, ok := v.(string); ok {
			fmt.Fprintf(&b, " db %d: %s;", dbs[i], s)
		}
	}
	return strings.TrimSuffix(b.String(), ";")
}

// extend sets the lease to expire a full TTL from now, and reports whether
// it is still this lease's.
func (l *lease) extend(ctx context.Context) (bool, error) {
	n, err := extendScript.Run(ctx, l.admin, []string{l.key}, l.owner, l.ttl.Milliseconds()).Int()
	return n == 1, err
}

// refresh extends the lease every interval until ctx is done or the lease
// is found lost. A failed attempt is retried at the next tick: the TTL
// outlasts several.
func (l *lease) refresh(ctx context.Context, interval time.Duration) {
	defer close(l.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if ok, err := l.extend(ctx); err == nil && !ok {
			l.lost.Store(true)
			return
		}
	}
}

// release stops the refresher and, if the lease is still this one's,
// flushes what it holds and deletes the lease key.
func (l *lease) release(tb testing.TB) {
	l.stop()
	<-l.done
	defer l.close()
	ctx := context.Background()
	// Extending first leaves a full TTL for the flush: no one else can
	// take the database before the lease is deleted.
	ok, err := l.extend(ctx)
	if err != nil {
		tb.Errorf("redistest: release %s: %v (the lease expires within %v)", l.what, err, l.ttl)
		return
	}
	if !ok || l.lost.Load() {
		tb.Errorf("redistest: the lease on %s ran out during the test (was the process stopped?): "+
			"another test may have used it meanwhile; left it as it is", l.what)
		return
	}
	if err := l.flush(ctx); err != nil {
		tb.Errorf("redistest: flush %s: %v (the lease expires within %v; the next test flushes it)", l.what, err, l.ttl)
		return
	}
	if err := releaseScript.Run(ctx, l.admin, []string{l.key}, l.owner).Err(); err != nil {
		tb.Errorf("redistest: release %s: %v (the lease expires within %v)", l.what, err, l.ttl)
	}
}

// Real reports whether the tests run against a real Redis (URLVar set),
// for the few checks of what the embedded one does its own way.
func Real() bool { return os.Getenv(URLVar) != "" }

// NeedsReal skips the test when no real Redis is configured (URLVar
// unset): for tests of what only the real server has, MEMORY USAGE say,
// which the embedded one lacks.
func NeedsReal(tb testing.TB, what string) {
	tb.Helper()
	if os.Getenv(URLVar) == "" {
		tb.Skipf("needs a real Redis (%s); set %s", what, URLVar)
	}
}
