package worker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"newsletter/internal/redistest"
	"newsletter/worker"
)

// lockedBuffer is a log destination that goroutines may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSchedulerAndQueueUIShareTheClient: the periodic scheduler and the
// queue monitor work on the client they are given, and neither closes it
// (nor complains at shutdown that it may not).
func TestSchedulerAndQueueUIShareTheClient(t *testing.T) {
	rdb := redistest.Client(t)
	ctx := context.Background()
	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))

	s, err := worker.NewScheduler(rdb, worker.SchedulerConfig{Tick: time.Second}, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	// The scheduler enqueues its first tick through the client.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if n, _ := rdb.LLen(ctx, "asynq:{default}:pending").Result(); n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the scheduler enqueued no tick")
		}
	}
	s.Shutdown()

	ui := worker.NewQueueUI(rdb, "/admin/queues")
	srv := httptest.NewServer(ui)
	defer srv.Close()
	for _, path := range []string{"/admin/queues/api/queues", "/admin/queues/api/redis_info"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		err = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if res.StatusCode != 200 || err != nil {
			t.Fatalf("GET %s = %d (%v), want 200 with JSON", path, res.StatusCode, err)
		}
	}
	if err := ui.Close(); err != nil {
		t.Fatalf("QueueUI.Close: %v", err)
	}

	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("the shared client was closed: %v", err)
	}
	if l := logs.String(); strings.Contains(l, "shared") || strings.Contains(l, "level=ERROR") {
		t.Fatalf("errors logged:\n%s", l)
	}
}
