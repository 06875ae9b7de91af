package worker

import (
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"newsletter/metrics"
)

// QueueSizes returns a source of the number of tasks in each queue, by
// state, for the metrics.
func QueueSizes(rdb redis.UniversalClient) metrics.Gauges {
	insp := asynq.NewInspectorFromRedisClient(rdb)
	return func() (map[[2]string]float64, error) {
		out := map[[2]string]float64{}
		for _, q := range []string{QueueConfirm, QueueDefault, QueueBulk} {
			info, err := insp.GetQueueInfo(q)
			if err != nil {
				continue // a queue never used does not exist yet
			}
			out[[2]string{q, "pending"}] = float64(info.Pending)
			out[[2]string{q, "active"}] = float64(info.Active)
			out[[2]string{q, "scheduled"}] = float64(info.Scheduled)
			out[[2]string{q, "retry"}] = float64(info.Retry)
		}
		return out, nil
	}
}
