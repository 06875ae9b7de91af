package worker

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Periodic task types.
const (
	TypeScheduleTick = "schedule:tick" // creates the digests whose slot has come
	TypePollFeeds    = "feeds:poll"    // fetches every newsletter's feeds
)

// Scheduler enqueues the periodic tasks through asynq's periodic task
// manager. Every worker process runs one; the tasks are unique for a while
// and their handlers are idempotent, so more processes never mean more
// digests.
type Scheduler struct {
	mgr *asynq.PeriodicTaskManager
}

// SchedulerConfig sets how often the periodic tasks run.
type SchedulerConfig struct {
	Tick      time.Duration // how often schedules are checked; default 1m
	FeedEvery time.Duration // how often feeds are polled; default 10m
}

// periodicTasks is the fixed set of periodic tasks.
type periodicTasks []*asynq.PeriodicTaskConfig

func (p periodicTasks) GetConfigs() ([]*asynq.PeriodicTaskConfig, error) { return p, nil }

// NewScheduler returns a Scheduler that enqueues on rdb (a plain, failover
// or cluster client), which it never closes: shut the Scheduler down before
// closing rdb.
func NewScheduler(rdb redis.UniversalClient, cfg SchedulerConfig, logger *slog.Logger) (*Scheduler, error) {
	if cfg.Tick <= 0 {
		cfg.Tick = time.Minute
	}
	if cfg.FeedEvery <= 0 {
		cfg.FeedEvery = 10 * time.Minute
	}
	purge := periodic(TypePurgeUnconfirmed, time.Hour)
	purge.Cronspec = purgeCron
	tasks := periodicTasks{
		periodic(TypeScheduleTick, cfg.Tick),
		periodic(TypePollFeeds, cfg.FeedEvery),
		purge,
	}
	mgr, err := asynq.NewPeriodicTaskManager(asynq.PeriodicTaskManagerOpts{
		PeriodicTaskConfigProvider: tasks,
		RedisUniversalClient:       rdb,
		SchedulerOpts:              &asynq.SchedulerOpts{Logger: schedulerLogger{asynqLogger{logger}}, LogLevel: asynq.WarnLevel},
	})
	if err != nil {
		return nil, err
	}
	return &Scheduler{mgr: mgr}, nil
}

// schedulerLogger is asynqLogger without the error that asynq's scheduler
// logs at every shutdown on a shared client: it tries to close the client
// and is refused ("redis connection is shared ..."), as it should be.
type schedulerLogger struct{ asynqLogger }

func (l schedulerLogger) Error(args ...any) {
	if msg := fmt.Sprint(args...); !strings.Contains(msg, "redis connection is shared") {
		l.asynqLogger.Error(msg)
	}
}

// periodic returns a task run every d, unique for most of d so that many
// scheduler processes enqueue it once.
func periodic(typ string, d time.Duration) *asynq.PeriodicTaskConfig {
	unique := d * 9 / 10
	if unique < time.Second {
		unique = time.Second
	}
	return &asynq.PeriodicTaskConfig{Cronspec: "@every " + d.String(), Task: asynq.NewTask(typ, nil),
		Opts: []asynq.Option{asynq.Queue(QueueDefault), asynq.Unique(unique), asynq.MaxRetry(0), asynq.Timeout(d * 5)}}
}

// Start starts enqueueing.
func (s *Scheduler) Start() error { return s.mgr.Start() }

// Shutdown stops enqueueing.
func (s *Scheduler) Shutdown() { s.mgr.Shutdown() }

func (h *boundHandlers) handleScheduleTick(ctx context.Context, _ *asynq.Task) error {
	all, err := h.Newsletters.Newsletters(ctx)
	if err != nil {
		return err
	}
	for _, n := range all {
		if err := h.DigestService.RunSchedule(ctx, n, h.Logger); err != nil {
			h.Logger.Error("Unable to run a newsletter's schedule", "newsletter", n.ID, "error", err)
		}
	}
	return nil
}

// handlePollFeeds fetches each feed once, for every newsletter that lists
// it. A failing feed is logged and tried again at the next poll.
func (h *boundHandlers) handlePollFeeds(ctx context.Context, _ *asynq.Task) error {
	all, err := h.Newsletters.Newsletters(ctx)
	if err != nil {
		return err
	}
	feeds := map[string][]string{}
	var order []string
	for _, n := range all {
		for _, f := range n.Feeds {
			if feeds[f] == nil {
				order = append(order, f)
			}
			feeds[f] = append(feeds[f], n.ID)
		}
	}
	for _, f := range order {
		added, err := h.Poller.Poll(ctx, f, feeds[f])
		if err != nil {
			h.Logger.Warn("Unable to poll a feed; trying again at the next poll", "feed", f, "error", err)
			continue
		}
		if added > 0 {
			h.Logger.Info("Feed polled", "feed", f, "added", added)
		}
	}
	return nil
}
