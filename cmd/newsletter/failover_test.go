package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"newsletter"
	"newsletter/internal/redistest"
	"newsletter/mailer/mailtest"
)

// signupLoad signs addresses up to newsletter daily, one after another, as
// fast as answers come, until stop is closed, and keeps the addresses
// answered 202: the signups the service promised. It tallies the answers
// by phase of the test (before the kill, during the failover...).
type signupLoad struct {
	url      string
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
	mu       sync.Mutex
	accepted []string
	phases   []*loadPhase // the current one last
}

// loadPhase tallies the answers of one phase of a signup load.
type loadPhase struct {
	name     string
	accepted int
	refused  map[int]int    // status (0: no answer) -> count
	sample   map[int]string // status -> the first body answered with it
}

func startSignupLoad(url, phase string) *signupLoad {
	l := &signupLoad{url: url, stop: make(chan struct{}), done: make(chan struct{})}
	l.phase(phase)
	go l.run()
	return l
}

func (l *signupLoad) run() {
	defer close(l.done)
	client := &http.Client{Timeout: 30 * time.Second}
	for i := 0; ; i++ {
		select {
		case <-l.stop:
			return
		default:
		}
		addr := fmt.Sprintf("failover-%d@example.org", i)
		body := `{"email":"` + addr + `","newsletters":["daily"]}`
		resp, err := client.Post(l.url+"/v1/subscriptions", "application/json", strings.NewReader(body))
		status, answer := 0, ""
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1000))
			status, answer = resp.StatusCode, string(b)
			resp.Body.Close()
		} else {
			answer = err.Error()
		}
		l.mu.Lock()
		p := l.phases[len(l.phases)-1]
		if status == http.StatusAccepted {
			l.accepted = append(l.accepted, addr)
			p.accepted++
		} else {
			p.refused[status]++
			if _, ok := p.sample[status]; !ok {
				p.sample[status] = answer
			}
		}
		l.mu.Unlock()
	}
}

// phase starts tallying the answers as those of phase name.
func (l *signupLoad) phase(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.phases = append(l.phases, &loadPhase{name: name, refused: map[int]int{}, sample: map[int]string{}})
}

// count returns how many signups were answered 202 so far.
func (l *signupLoad) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.accepted)
}

// waitAccepted waits until n signups were answered 202.
func (l *signupLoad) waitAccepted(t *testing.T, n int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if got := l.count(); got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d signups accepted within %s, want %d", l.count(), limit, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// finish stops the load and returns the addresses answered 202 and the
// phases' tallies.
func (l *signupLoad) finish() ([]string, []*loadPhase) {
	l.halt()
	return l.accepted, l.phases
}

// halt stops the load, if it still runs, and waits until it has stopped.
func (l *signupLoad) halt() {
	l.stopOnce.Do(func() { close(l.stop) })
	<-l.done
}

func (p *loadPhase) String() string {
	return fmt.Sprintf("%s: %d accepted, refused by status %v", p.name, p.accepted, p.refused)
}

// failover is a topology's part in a failover test: replicated waits until
// the replicas hold every write made so far; kill kills the master that the
// test is about (SIGKILL) and returns wait, which waits until a replica has
// taken over and says what happened; restore, after the failover, gives
// every master a replica again where the failover left one without (a
// no-op where one was left), as an operator would by bringing the dead
// node back, and says what it did.
type failover struct {
	replicated func()
	kill       func() (wait func() string)
	restore    func() string
	// others says which failovers the topology went through besides the
	// one kill caused ("" when none): a second failover, of a new master
	// taken for down on a loaded machine, loses what it had not passed on
	// to its replica yet.
	others func() string
}

// failoverLimit bounds the wait for a failover: seconds as a rule, but a
// sentinel that a loaded machine starves of the CPU for 2 seconds goes
// into TILT mode and does nothing for 30 seconds.
const failoverLimit = 60 * time.Second

// sentinelFailover kills the master of a Sentinel set, which holds
// everything: every partition of the readers' data, the global state and
// asynq's queue. One of its two replicas takes over, with the other as its
// replica.
func sentinelFailover(t *testing.T, s *redistest.Sentinel) failover {
	return failover{
		replicated: func() { s.WaitReplicated(t) },
		kill: func() func() string {
			lag := redistest.ReplicaLag(t, s.Master(t), s.Servers)
			old := s.KillMaster(t)
			killed := time.Now()
			return func() string {
				now := s.WaitForFailover(t, old, failoverLimit)
				return fmt.Sprintf("Sentinel master %s killed (its replicas' lag just before, in bytes: %v); %s took over after %v",
					old.Addr, lag, now.Addr, time.Since(killed).Round(time.Millisecond))
			}
		},
		others: func() string {
			if switches := s.Switches(); len(switches) != 1 {
				return fmt.Sprintf("the sentinels switched masters %d times: %v", len(switches), switches)
			}
			return ""
		},
		restore: func() string {
			start := time.Now()
			m := s.Master(t)
			mc := m.Client(t)
			for {
				info, err := mc.Info(context.Background(), "replication").Result()
				if err == nil && strings.Contains(info, "state=online") {
					break
				}
				if time.Since(start) > 30*time.Second {
					t.Fatalf("the new master %s has no replica online after 30 s: %v %s", m.Addr, err, info)
				}
				time.Sleep(50 * time.Millisecond)
			}
			return fmt.Sprintf("the other replica was online as the new master's after %v", time.Since(start).Round(time.Millisecond))
		},
	}
}

// failoverHarness runs the whole service on redisURL with
// NEWSLETTER_REDIS_MIN_REPLICAS=1, as harness.run does but keeping a tally
// of what the service logs at Warn and above (logged at the end of the
// test), and creates newsletter daily.
func failoverHarness(t *testing.T, redisURL string) *harness {
	t.Helper()
	h := &harness{t: t, smtp: mailtest.MustStart(t), redisURL: redisURL}
	env := testEnv(h.redisURL, h.smtp.URL())
	env["NEWSLETTER_REDIS_MIN_REPLICAS"] = "1"
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	tally := &logTally{counts: map[string]int{}, first: map[string]string{}}
	m := NewMain(cfg, slog.New(tally))
	if err := m.Run(context.Background(), ModeAll); err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Cleanup(func() {
		m.Close()
		t.Logf("the service logged:%s", tally)
	})
	m.rdb.AddHook(redistest.SlotCheck(t)) // as harness.run does
	h.main, h.url = m, "http://"+m.Addr()
	h.mustNewsletter("daily", "Daily Brief")
	return h
}

// logTally is a slog.Handler that counts the records at Warn and above by
// level and message, keeping the attributes of the first of each.
type logTally struct {
	mu     sync.Mutex
	counts map[string]int
	first  map[string]string
}

func (l *logTally) Enabled(_ context.Context, level slog.Level) bool { return level >= slog.LevelWarn }

func (l *logTally) Handle(_ context.Context, r slog.Record) error {
	key := r.Level.String() + " " + r.Message
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counts[key]++; l.counts[key] == 1 {
		var attrs []string
		r.Attrs(func(a slog.Attr) bool { attrs = append(attrs, a.String()); return true })
		l.first[key] = strings.Join(attrs, " ")
	}
	return nil
}

func (l *logTally) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logTally) WithGroup(string) slog.Handler      { return l }

func (l *logTally) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.counts) == 0 {
		return " nothing at Warn or above"
	}
	var lines []string
	for key, n := range l.counts {
		lines = append(lines, fmt.Sprintf("\n  %d× %s (first: %s)", n, key, l.first[key]))
	}
	sort.Strings(lines)
	return strings.Join(lines, "")
}

// signupsSurviveFailover signs addresses up one after another while f's
// master is killed and a replica takes over, then checks the promise of
// each 202: the address is there, pending for daily, and gets a
// confirmation email whose link confirms it. Signups during the failover
// may be refused, with 503 (trying again is safe), never lost once
// accepted. The service follows the new master without a restart: it is
// ready again and accepts signups, and once every master has a replica
// again it refuses none.
func signupsSurviveFailover(t *testing.T, h *harness, f failover) {
	f.replicated()
	load := startSignupLoad(h.url, "before the kill")
	t.Cleanup(load.halt) // when the test stops before finish
	load.waitAccepted(t, 30, 30*time.Second)
	wait := f.kill()
	killed := time.Now()
	load.phase("during the failover")
	what := wait()
	load.phase("after the failover")
	h.waitReadyz(200, 15*time.Second)
	load.waitAccepted(t, load.count()+30, 60*time.Second)
	restored := f.restore()
	load.phase("once restored")
	load.waitAccepted(t, load.count()+100, 60*time.Second)
	accepted, phases := load.finish()
	t.Logf("%s; %s; %d signups accepted:\n  %v\n  %v\n  %v\n  %v", what, restored, len(accepted), phases[0], phases[1], phases[2], phases[3])
	others := f.others()
	if others != "" {
		t.Logf("besides the failover the test caused, %s", others)
	}
	for _, p := range phases {
		for status, n := range p.refused {
			if status != http.StatusServiceUnavailable {
				t.Errorf("%s, %d signups answered %d, not 503 (a refusal must say that trying again is safe); the first: %s", p.name, n, status, p.sample[status])
			}
		}
	}
	// Once every master has a replica again, every partition takes
	// signups: a master left without one refuses its partitions' signups,
	// a third of them on a cluster, while a WAIT that misses its 100 ms on
	// a loaded machine refuses one now and then. More than 1 in 10 refused
	// is a partition that still refuses.
	if restoredPhase := phases[3]; restoredPhase.refused[http.StatusServiceUnavailable]*10 > restoredPhase.accepted {
		t.Errorf("%s, %d signups still refused with 503 and %d accepted: %s", restoredPhase.name,
			restoredPhase.refused[http.StatusServiceUnavailable], restoredPhase.accepted, restoredPhase.sample[http.StatusServiceUnavailable])
	}

	for _, addr := range accepted {
		code, body := h.editor("GET", "/v1/subscribers/"+addr, "")
		if code != 200 {
			t.Errorf("accepted signup %s is gone after the failover: %d %s%s", addr, code, body, besides(others))
			continue
		}
		var sub struct {
			Subscriptions []struct{ Newsletter, Status string } `json:"subscriptions"`
		}
		if err := json.Unmarshal([]byte(body), &sub); err != nil || len(sub.Subscriptions) != 1 ||
			sub.Subscriptions[0].Newsletter != "daily" || sub.Subscriptions[0].Status != "pending" {
			t.Errorf("accepted signup %s after the failover: %s, want pending for daily", addr, body)
		}
	}
	// A confirmation email whose task failed while Redis was failing over,
	// and whose move to the retry set failed too, stays active until
	// asynq's recoverer takes it back (asynq 0.26's syncer retries the move
	// with a context already canceled): the task's lease runs out at most
	// 30 s after the kill, the recoverer takes tasks whose lease ran out 30
	// s before, and it looks once a minute; then the retry's backoff (a
	// second or so) and the forwarder's round (5 s). About 2 minutes after
	// the kill, 170 s at most.
	deadline := killed.Add(170 * time.Second)
	last := map[string]mailtest.Received{} // each address's latest confirmation email
	copies := map[string]int{}
	for missing := len(accepted); missing > 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		clear(last)
		clear(copies)
		for _, msg := range h.smtp.Messages() {
			last[msg.To[0]] = msg
			copies[msg.To[0]]++
		}
		missing = 0
		for _, addr := range accepted {
			if _, ok := last[addr]; !ok {
				missing++
			}
		}
	}
	repeated := 0
	for _, n := range copies {
		repeated += max(n-1, 0)
	}
	t.Logf("%d confirmation emails to %d addresses for %d accepted signups (%d repeats), the last %v after the kill",
		h.smtp.Count(), len(copies), len(accepted), repeated, time.Since(killed).Round(time.Millisecond))
	for _, addr := range accepted {
		msg, ok := last[addr]
		if !ok {
			t.Errorf("accepted signup %s got no confirmation email%s", addr, besides(others))
			continue
		}
		if code, body := h.confirm(tokenOf(t, confirmLink(t, msg))); code != 200 {
			t.Errorf("the confirmation link of accepted signup %s = %d %.300s, want 200", addr, code, body)
		}
	}
}

// digestSurvivesFailover sends a digest to readers confirmed readers and
// kills f's master once half of them got it. The digest ends sent, nobody
// is missing, and the duplicates stay within what the failover can
// justify (see below); the service follows the new master without a
// restart.
func digestSurvivesFailover(t *testing.T, h *harness, f failover, readers int) {
	audience := h.seeder().add("reader", readers, newsletter.StatusConfirmed, "daily")
	h.postArticles([]string{"Failover story"}, time.Hour)
	f.replicated()

	started := time.Now()
	_, d := h.createDigest("daily", `{}`)
	h.waitCount(readers/2, 120*time.Second)
	beforeKill := h.smtp.Count()
	wait := f.kill()
	killed := time.Now()
	atKill := h.smtp.Count()
	what := wait()
	atFailover := h.smtp.Count()
	h.waitReadyz(200, 15*time.Second)
	// A batch whose run failed while Redis failed over can stay active
	// until asynq's recoverer takes it back (see signupsSurviveFailover):
	// up to some 2.5 minutes after the kill when the run failed late,
	// having kept its lease meanwhile; its recipients, or the digest's
	// finish, wait for it.
	final := h.waitDigest(d.ID, 200*time.Second)
	took := time.Since(started)
	waitQuiet()
	missing, duplicates := missingAndDuplicates(h, audience)
	// The service sends over 4 SMTP connections (NEWSLETTER_SMTP_CONNECTIONS)
	// and records each outcome before its connection's next message
	// (NEWSLETTER_RECORD_EVERY=1). A message goes out twice only when its
	// outcome is lost, which the failover can do to at most two messages
	// per connection: the one on the wire, when its batch run gives up
	// recording it (after some 25 s of retries) and hands the batch back;
	// and the one before, whose
	// outcome the old master acknowledged but had not passed on to its
	// replica yet (replication is asynchronous, but each connection waits
	// for its record's answer before it sends again, so no more than one
	// such outcome per connection is unreplicated at the kill).
	const connections = 4
	bound := 2 * connections
	if duplicates > 0 {
		t.Logf("duplicates: %s", whereRepeated(h.smtp.Messages(), killed))
	}
	others := f.others()
	if others != "" {
		t.Logf("besides the failover the test caused, %s", others)
	}
	t.Logf("%s; sent when killed: %d of %d (%d just before), when taken over: %d; digest %s %+v after %v: %d missing, %d duplicates (bound %d)",
		what, atKill, readers, beforeKill, atFailover, final.Status, final.Counts, took.Round(time.Millisecond), len(missing), duplicates, bound)
	if len(missing) > 0 || final.Status != "sent" || final.Counts.Sent != readers || duplicates > bound {
		t.Fatalf("digest %s %+v: %d missing (first %v), %d duplicates, want none missing and at most %d duplicates%s",
			final.Status, final.Counts, len(missing), first3(missing), duplicates, bound, besides(others))
	}
}

// TestSignupsSurviveASentinelFailover kills the Sentinel master while
// signups arrive, with NEWSLETTER_REDIS_MIN_REPLICAS=1: every signup the
// service answered 202 is there after the failover and gets its
// confirmation email (signupsSurviveFailover).
func TestSignupsSurviveASentinelFailover(t *testing.T) {
	t.Parallel()
	s := redistest.StartSentinel(t)
	h := failoverHarness(t, s.URL)
	signupsSurviveFailover(t, h, sentinelFailover(t, s))
}

// TestDigestSurvivesASentinelFailover kills the Sentinel master halfway
// through a digest to 20,000 readers: it ends sent, nobody missing, with
// no more duplicates than the failover justifies (digestSurvivesFailover).
func TestDigestSurvivesASentinelFailover(t *testing.T) {
	t.Parallel()
	s := redistest.StartSentinel(t)
	h := failoverHarness(t, s.URL)
	digestSurvivesFailover(t, h, sentinelFailover(t, s), 20000)
}

// besides names the failovers other than the test's for a failure's
// message: a second failover can lose writes that the first new master
// acknowledged, which the checks here do not allow for.
func besides(others string) string {
	if others == "" {
		return ""
	}
	return " (besides the failover the test caused, " + others + ")"
}

// whereRepeated says where, in the order messages arrived, the first and
// the repeated copies of the repeated messages are, and when, relative to
// killed: the span of the messages whose outcomes were lost, and when they
// went out again; and whether the repeats are copies of the same message
// (the same Message-ID: the same digest).
func whereRepeated(msgs []mailtest.Received, killed time.Time) string {
	first := map[string]int{}
	var firsts, repeats []int
	same := 0
	for i, m := range msgs {
		j, ok := first[m.To[0]]
		if !ok {
			first[m.To[0]] = i
			continue
		}
		firsts, repeats = append(firsts, j), append(repeats, i)
		if m.Header("Message-Id") == msgs[j].Header("Message-Id") {
			same++
		}
	}
	if len(repeats) == 0 {
		return "none"
	}
	at := func(i int) time.Duration { return msgs[i].At.Sub(killed).Round(time.Millisecond) }
	lo, hi := slices.Min(firsts), slices.Max(firsts)
	rlo, rhi := slices.Min(repeats), slices.Max(repeats)
	return fmt.Sprintf("%d repeats (%d with the first copy's Message-ID) of messages %d to %d (of %d; sent %v to %v after the kill), "+
		"sent again as messages %d to %d (%v to %v after the kill)",
		len(repeats), same, lo, hi, len(msgs), at(lo), at(hi), rlo, rhi, at(rlo), at(rhi))
}
