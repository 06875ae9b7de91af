package redistest_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"newsletter/internal/redistest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var ctx = context.Background()

// realServer reports whether the tests run against the server named by
// URLVar rather than embedded ones.
func realServer() bool { return os.Getenv(redistest.URLVar) != "" }

func needRealServer(t *testing.T) {
	t.Helper()
	if !realServer() {
		t.Skip("needs a real Redis (" + redistest.URLVar + ")")
	}
}

// rawClient returns a client on database db of the real server that goes
// around the leases, closed at cleanup.
func rawClient(t *testing.T, db int) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(os.Getenv(redistest.URLVar))
	if err != nil {
		t.Fatal(err)
	}
	opt.DB = db
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// databases returns the number of databases of the real server.
func databases(t *testing.T, admin *redis.Client) int {
	t.Helper()
	if cfg, err := admin.ConfigGet(ctx, "databases").Result(); err == nil {
		if n, err := strconv.Atoi(cfg["databases"]); err == nil {
			return n
		}
	}
	return 16
}

// claimAny takes the lease on some free database for owner, as a test
// of another process would, waiting up to 30 s for one.
func claimAny(t *testing.T, admin *redis.Client, owner string) int {
	t.Helper()
	n := databases(t, admin)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, db := range rand.Perm(n - 1) {
			if ok, err := admin.SetNX(ctx, redistest.LeaseKey(db+1), owner, time.Minute).Result(); err != nil {
				t.Fatal(err)
			} else if ok {
				return db + 1
			}
		}
	}
	t.Fatal("no free database for 30 s")
	return 0
}

// claim takes the lease on db for owner, waiting up to 30 s for it.
func claim(t *testing.T, admin *redis.Client, db int, owner string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ok, err := admin.SetNX(ctx, redistest.LeaseKey(db), owner, time.Minute).Result(); err != nil {
			t.Fatal(err)
		} else if ok {
			return
		}
	}
	t.Fatalf("database %d stayed leased for 30 s", db)
}

// unclaim deletes the lease on db if owner holds it.
func unclaim(t *testing.T, admin *redis.Client, db int, owner string) {
	t.Helper()
	if got, _ := admin.Get(ctx, redistest.LeaseKey(db)).Result(); got == owner {
		admin.Del(ctx, redistest.LeaseKey(db))
	}
}

// fakeTB is a testing.TB for tests run in plain goroutines: Fatalf ends
// the goroutine, errors are recorded, and finish runs the cleanups.
type fakeTB struct {
	testing.TB // the real test, for Logf
	name       string

	mu       sync.Mutex
	cleanups []func()
	errs     []string
}

func newFake(t *testing.T, name string) *fakeTB { return &fakeTB{TB: t, name: name} }

func (f *fakeTB) Name() string { return f.name }
func (f *fakeTB) Helper()      {}
func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Error(args ...any) { f.Errorf("%s", fmt.Sprint(args...)) }
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatal(args ...any) { f.Error(args...); runtime.Goexit() }
func (f *fakeTB) FailNow()          { f.Error("FailNow"); runtime.Goexit() }

// run runs fn as f's test in a goroutine of its own, then f's cleanups,
// and returns f's errors.
func (f *fakeTB) run(fn func(*fakeTB)) []string {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer f.finish()
		fn(f)
	}()
	<-done
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.errs)
}

func (f *fakeTB) finish() {
	f.mu.Lock()
	fns := f.cleanups
	f.cleanups = nil
	f.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// keys returns every key of c's database, sorted.
func keys(tb testing.TB, c *redis.Client) []string {
	tb.Helper()
	ks, err := c.Keys(ctx, "*").Result()
	if err != nil {
		tb.Fatalf("KEYS: %v", err)
	}
	slices.Sort(ks)
	return ks
}

func TestOneDatabasePerTest(t *testing.T) {
	t.Parallel()
	u := redistest.URL(t)
	c := redistest.Client(t)
	opt := redistest.Options(t)
	db := redistest.DB(t)

	fromURL, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("ParseURL(%q): %v", u, err)
	}
	for what, o := range map[string]*redis.Options{"URL": fromURL, "Client": c.Options(), "Options": opt,
		"MustOptions": redistest.MustOptions(t, 4), "MustClient": redistest.MustClient(t, 7).Options()} {
		if o.DB != db || o.Addr != opt.Addr {
			t.Errorf("%s: %s db %d, want %s db %d", what, o.Addr, o.DB, opt.Addr, db)
		}
	}
	if got := redistest.MustURL(t, 2); got != u {
		t.Errorf("MustURL = %q, want %q", got, u)
	}
	if realServer() {
		admin := rawClient(t, 0)
		if n := databases(t, admin); db < 1 || db >= n {
			t.Errorf("DB = %d, want 1 to %d", db, n-1)
		}
		owner, err := admin.Get(ctx, redistest.LeaseKey(db)).Result()
		if err != nil || !strings.Contains(owner, t.Name()) {
			t.Errorf("lease key of db %d = %q, %v; want an owner naming %s", db, owner, err, t.Name())
		}
	}

	// What the code under test writes through the URL, the test reads
	// through its client.
	other := redis.NewClient(fromURL)
	defer other.Close()
	if err := other.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(ctx, "k").Result(); got != "v" {
		t.Fatalf("GET k through Client = %q, %v; want what was set through URL", got, err)
	}
}

func TestParallelTestsGetTheirOwnDatabases(t *testing.T) {
	t.Parallel()
	names := []string{"a", "b"}
	var where [2]string // addr/db of each subtest
	var arrived, checked, left [2]chan struct{}
	for i := range names {
		arrived[i], checked[i], left[i] = make(chan struct{}), make(chan struct{}), make(chan struct{})
	}
	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			defer close(left[i])
			other := 1 - i
			c := redistest.Client(t)
			if ks := keys(t, c); len(ks) != 0 {
				t.Fatalf("new database holds %q", ks)
			}
			if err := c.Set(ctx, "who", name, 0).Err(); err != nil {
				t.Fatal(err)
			}
			where[i] = c.Options().Addr + "/" + strconv.Itoa(c.Options().DB)
			close(arrived[i])
			// Both must hold their databases at once: each keeps its own
			// until the other has checked.
			select {
			case <-arrived[other]:
			case <-time.After(10 * time.Second):
				t.Skip("the other subtest did not run alongside (-parallel 1?)")
			}
			select {
			case <-left[other]:
				t.Skip("the other subtest ended before this one ran (-parallel 1?)")
			default:
			}
			defer func() {
				close(checked[i])
				select {
				case <-checked[other]:
				case <-left[other]:
				case <-time.After(10 * time.Second):
				}
			}()
			if where[0] == where[1] {
				t.Fatalf("both tests got %s at once", where[i])
			}
			if ks := keys(t, c); !slices.Equal(ks, []string{"who"}) {
				t.Fatalf("keys = %q, want only who", ks)
			}
			if got, _ := c.Get(ctx, "who").Result(); got != name {
				t.Fatalf("who = %q, want %q: the other test wrote here", got, name)
			}
		})
	}
}

func TestFlushedOnClaim(t *testing.T) {
	needRealServer(t)
	t.Parallel()
	admin := rawClient(t, 0)
	// A test of a process that crashed leaves data behind, then its lease
	// runs out.
	crashed := "crashed " + t.Name()
	db := claimAny(t, admin, crashed)
	if err := rawClient(t, db).Set(ctx, "left-by-a-crash", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	unclaim(t, admin, db, crashed)

	t.Run("next", func(t *testing.T) {
		if got := redistest.DBFrom(t, []int{db}, 30*time.Second, 0, 0); got != db {
			t.Fatalf("DBFrom(%d) = %d", db, got)
		}
		if ks := keys(t, redistest.Client(t)); len(ks) != 0 {
			t.Fatalf("database %d holds %q on claim, want it flushed", db, ks)
		}
	})
}

func TestFlushedAndReleasedAfterTest(t *testing.T) {
	needRealServer(t)
	t.Parallel()
	admin := rawClient(t, 0)
	var db int
	var owner string
	t.Run("user", func(t *testing.T) {
		db = redistest.DB(t)
		var err error
		if owner, err = admin.Get(ctx, redistest.LeaseKey(db)).Result(); err != nil {
			t.Fatalf("lease key of db %d: %v", db, err)
		}
		if ttl := admin.PTTL(ctx, redistest.LeaseKey(db)).Val(); ttl <= 0 || ttl > time.Minute {
			t.Errorf("lease expires in %v, want in at most a minute", ttl)
		}
		if err := redistest.Client(t).Set(ctx, "mine", "x", 0).Err(); err != nil {
			t.Fatal(err)
		}
	})
	if t.Failed() {
		return
	}
	if got, err := admin.Get(ctx, redistest.LeaseKey(db)).Result(); got == owner {
		t.Fatalf("after the test, lease key of db %d = %q, %v; want it gone", db, got, err)
	}
	// Under a lease of its own (another process may have leased and
	// released it since), the database must be empty.
	checker := "checker " + t.Name()
	claim(t, admin, db, checker)
	defer unclaim(t, admin, db, checker)
	if ks := keys(t, rawClient(t, db)); len(ks) != 0 {
		t.Fatalf("database %d holds %q after the test, want it flushed", db, ks)
	}
}

// TestExclusiveUnderContention has more tests than databases lease, write
// a marker and check that theirs is the only one, at once, then checks no
// goroutine is left.
func TestExclusiveUnderContention(t *testing.T) {
	const tests = 40
	var mu sync.Mutex
	holder := map[string]string{} // addr/db: test
	use := func(tb testing.TB) {
		tb.Helper()
		c := redistest.Client(tb)
		where := c.Options().Addr + "/" + strconv.Itoa(c.Options().DB)
		mu.Lock()
		if h, ok := holder[where]; ok {
			mu.Unlock()
			tb.Fatalf("%s got %s, which %s holds", tb.Name(), where, h)
		}
		holder[where] = tb.Name()
		mu.Unlock()
		// Registered after Client: runs before the database is released.
		tb.Cleanup(func() {
			mu.Lock()
			delete(holder, where)
			mu.Unlock()
		})
		if ks := keys(tb, c); len(ks) != 0 {
			tb.Fatalf("%s: new database %s holds %q", tb.Name(), where, ks)
		}
		marker := "marker:" + tb.Name()
		if err := c.Set(ctx, marker, tb.Name(), 0).Err(); err != nil {
			tb.Fatalf("SET: %v", err)
		}
		time.Sleep(rand.N(20 * time.Millisecond))
		if ks := keys(tb, c); !slices.Equal(ks, []string{marker}) {
			tb.Fatalf("%s: %s holds %q, want only %q", tb.Name(), where, ks, marker)
		}
	}

	t.Run("subtests", func(t *testing.T) {
		for i := range tests {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				use(t)
			})
		}
	})
	// -parallel (GOMAXPROCS) bounds the subtests above; these run all at
	// once and must wait for databases.
	t.Run("goroutines", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range tests {
			wg.Go(func() {
				f := newFake(t, t.Name()+"/"+strconv.Itoa(i))
				for _, e := range f.run(func(f *fakeTB) { use(f) }) {
					t.Errorf("%s: %s", f.name, e)
				}
			})
		}
		wg.Wait()
	})
	if len(holder) != 0 {
		t.Errorf("still held after the tests: %v", holder)
	}
	goleak.VerifyNone(t)
}

func TestWaitsForABusyDatabase(t *testing.T) {
	needRealServer(t)
	t.Parallel()
	admin := rawClient(t, 0)
	holder := "holder " + t.Name()
	db := claimAny(t, admin, holder)
	defer unclaim(t, admin, db, holder)

	errs := newFake(t, t.Name()+"/gives-up").run(func(f *fakeTB) {
		redistest.DBFrom(f, []int{db}, 300*time.Millisecond, 0, 0)
		f.Errorf("DBFrom returned while %d was leased", db)
	})
	want := fmt.Sprintf("db %d: %s", db, holder)
	if len(errs) != 1 || !strings.Contains(errs[0], "stayed leased") || !strings.Contains(errs[0], want) {
		t.Fatalf("errors = %q, want one that the database stayed leased, naming %q", errs, want)
	}

	go func() {
		time.Sleep(200 * time.Millisecond)
		admin.Del(ctx, redistest.LeaseKey(db))
	}()
	start := time.Now()
	if got := redistest.DBFrom(t, []int{db}, 30*time.Second, 0, 0); got != db {
		t.Fatalf("DBFrom(%d) = %d", db, got)
	}
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Fatalf("got database %d after %v, while it was leased for 200 ms", db, waited)
	}
}

func TestLeaseIsRefreshed(t *testing.T) {
	needRealServer(t)
	t.Parallel()
	db := redistest.DBFrom(t, nil, 0, 1500*time.Millisecond, 200*time.Millisecond)
	time.Sleep(2500 * time.Millisecond)
	admin := rawClient(t, 0)
	owner, err := admin.Get(ctx, redistest.LeaseKey(db)).Result()
	if err != nil || !strings.Contains(owner, t.Name()) {
		t.Fatalf("after 2.5 s, lease key of db %d = %q, %v; want it kept by %s", db, owner, err, t.Name())
	}
	if ttl := admin.PTTL(ctx, redistest.LeaseKey(db)).Val(); ttl <= 0 || ttl > 1500*time.Millisecond {
		t.Fatalf("lease expires in %v, want in (0, 1.5 s]", ttl)
	}
}

func TestLostLeaseIsReportedAndLeftAlone(t *testing.T) {
	needRealServer(t)
	t.Parallel()
	admin := rawClient(t, 0)
	thief := "thief " + t.Name()
	var db int
	errs := newFake(t, t.Name()+"/victim").run(func(f *fakeTB) {
		db = redistest.DB(f)
		if err := redistest.Client(f).Set(ctx, "victim", "x", 0).Err(); err != nil {
			f.Fatalf("SET: %v", err)
		}
		// As if the lease had run out and another test leased the database.
		if err := admin.Set(ctx, redistest.LeaseKey(db), thief, time.Minute).Err(); err != nil {
			f.Fatalf("SET: %v", err)
		}
	})
	if db == 0 {
		t.Fatalf("no database leased: %q", errs)
	}
	defer func() {
		rawClient(t, db).FlushDB(ctx)
		unclaim(t, admin, db, thief)
	}()
	if len(errs) != 1 || !strings.Contains(errs[0], "ran out") {
		t.Fatalf("errors = %q, want one that the lease ran out", errs)
	}
	if got, _ := admin.Get(ctx, redistest.LeaseKey(db)).Result(); got != thief {
		t.Fatalf("lease key = %q, want the new owner's %q kept", got, thief)
	}
	if ks := keys(t, rawClient(t, db)); !slices.Equal(ks, []string{"victim"}) {
		t.Fatalf("database %d holds %q, want it left alone", db, ks)
	}
}

// TestLeaseAgainAfterCleanup runs a test twice on one TB, as a benchmark
// runs its function with growing b.N.
func TestLeaseAgainAfterCleanup(t *testing.T) {
	t.Parallel()
	f := newFake(t, t.Name()+"/bench")
	for i := range 2 {
		errs := f.run(func(f *fakeTB) {
			c := redistest.Client(f)
			if ks := keys(f, c); len(ks) != 0 {
				f.Fatalf("run %d: new database holds %q", i, ks)
			}
			if err := c.Set(ctx, "run", i, 0).Err(); err != nil {
				f.Fatalf("SET: %v", err)
			}
		})
		if len(errs) != 0 {
			t.Fatalf("run %d: %q", i, errs)
		}
	}
}

func TestUnreachableServerFails(t *testing.T) {
	t.Setenv(redistest.URLVar, "redis://127.0.0.1:1")
	errs := newFake(t, t.Name()+"/x").run(func(f *fakeTB) { redistest.Client(f) })
	if len(errs) != 1 || !strings.Contains(errs[0], "127.0.0.1:1") {
		t.Fatalf("errors = %q, want one naming the address", errs)
	}
}

// TestMustURLThenClient is how cmd/newsletter's tests use the package: the
// service gets MustURL, the test checks through a client.
func TestMustURLThenClient(t *testing.T) {
	t.Parallel()
	u := redistest.MustURL(t, 4)
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	service := redis.NewClient(opt)
	defer service.Close()
	if err := service.Set(ctx, "from-service", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	c := redistest.Client(t)
	if ks := keys(t, c); !slices.Equal(ks, []string{"from-service"}) {
		t.Fatalf("Client after MustURL(%q) sees %q (db %d), want the service's key", u, ks, c.Options().DB)
	}
}
