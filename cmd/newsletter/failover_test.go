package main

import (
	"fmt"
	"net/http"
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
// answered 202: the signups the service promised.
type signupLoad struct {
	url      string
	stop     chan struct{}
	done     chan struct{}
	mu       sync.Mutex
	accepted []string
	refused  map[int]int // status -> count
}

func startSignupLoad(url string) *signupLoad {
	l := &signupLoad{url: url, stop: make(chan struct{}), done: make(chan struct{}), refused: map[int]int{}}
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
		status := 0
		if err == nil {
			status = resp.StatusCode
			resp.Body.Close()
		}
		l.mu.Lock()
		if status == http.StatusAccepted {
			l.accepted = append(l.accepted, addr)
		} else {
			l.refused[status]++
		}
		l.mu.Unlock()
	}
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

func (l *signupLoad) finish() ([]string, map[int]int) {
	close(l.stop)
	<-l.done
	return l.accepted, l.refused
}

// TestSignupsSurviveASentinelFailover kills the Sentinel master while
// signups arrive, with NEWSLETTER_REDIS_MIN_REPLICAS=1: every signup the
// service answered 202 is there after the failover and gets its
// confirmation email; signups during the failover may be refused (503,
// trying again is safe), never lost once accepted. The service follows the
// new master without a restart.
func TestSignupsSurviveASentinelFailover(t *testing.T) {
	t.Parallel()
	s := redistest.StartSentinel(t)
	h := &harness{t: t, smtp: mailtest.MustStart(t), redisURL: s.URL}
	m := h.run(ModeAll, map[string]string{"NEWSLETTER_REDIS_MIN_REPLICAS": "1"})
	h.main, h.url = m, "http://"+m.Addr()
	h.mustNewsletter("daily", "Daily Brief")
	s.WaitReplicated(t)

	load := startSignupLoad(h.url)
	load.waitAccepted(t, 30, 30*time.Second)
	old := s.KillMaster(t)
	s.WaitForFailover(t, old, 30*time.Second)
	h.waitReadyz(200, 15*time.Second)
	load.waitAccepted(t, load.count()+30, 60*time.Second)
	accepted, refused := load.finish()
	t.Logf("%d signups accepted, refused by status %v, around the failover", len(accepted), refused)

	for _, addr := range accepted {
		if code, body := h.editor("GET", "/v1/subscribers/"+addr, ""); code != 200 {
			t.Errorf("accepted signup %s is gone after the failover: %d %s", addr, code, body)
		}
	}
	// An email whose task the dead master held as active is sent again
	// once asynq recovers the task: its lease (30 s) plus its recoverer's
	// round (1 minute) plus the retry's backoff.
	got := map[string]int{}
	deadline := time.Now().Add(150 * time.Second)
	for missing := len(accepted); missing > 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		clear(got)
		for _, msg := range h.smtp.Messages() {
			got[msg.To[0]]++
		}
		missing = 0
		for _, addr := range accepted {
			if got[addr] == 0 {
				missing++
			}
		}
	}
	for _, addr := range accepted {
		if got[addr] == 0 {
			t.Errorf("accepted signup %s got no confirmation email", addr)
		}
	}
}

// TestDigestSurvivesASentinelFailover kills the Sentinel master while a
// digest to 2,000 readers is being sent: the digest ends sent, nobody is
// missing, and the duplicates stay within what was on the wire or sent and
// not yet replicated when the master died; the service recovers without a
// restart.
func TestDigestSurvivesASentinelFailover(t *testing.T) {
	t.Parallel()
	s := redistest.StartSentinel(t)
	h := &harness{t: t, smtp: mailtest.MustStart(t), redisURL: s.URL}
	h.start()
	h.mustNewsletter("daily", "Daily Brief")
	audience := h.seeder().add("reader", 2000, newsletter.StatusConfirmed, "daily")
	h.postArticles([]string{"Failover story"}, time.Hour)
	s.WaitReplicated(t)

	_, d := h.createDigest("daily", `{}`)
	h.waitCount(500, 60*time.Second)
	old := s.KillMaster(t)
	atKill := h.smtp.Count()
	s.WaitForFailover(t, old, 30*time.Second)
	final := h.waitDigest(d.ID, 180*time.Second)
	waitQuiet()
	missing, duplicates := missingAndDuplicates(h, audience)
	t.Logf("master killed at %d sent: digest %s %+v, %d missing, %d duplicates", atKill, final.Status, final.Counts, len(missing), duplicates)
	// Each of the 4 connections may repeat its message on the wire, and
	// outcomes the old master had not passed on to its replicas yet are
	// sent again: replication lags by at most a few hundred messages here.
	if len(missing) > 0 || final.Status != "sent" || duplicates > 500 {
		t.Fatalf("digest %s %+v: %d missing (first %v), %d duplicates", final.Status, final.Counts, len(missing), first3(missing), duplicates)
	}
}
