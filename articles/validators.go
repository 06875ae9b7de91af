package articles

import (
	"context"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
)

// validatorsTTL is how long a feed's validators outlive its last poll.
const validatorsTTL = 30 * 24 * time.Hour

// maxValidatorLen bounds the ETag and Last-Modified values kept.
const maxValidatorLen = 1024

// validators are what a feed's server last said to identify its answer.
type validators struct {
	etag, lastModified string
}

func (p *Poller) loadValidators(ctx context.Context, feedURL string) (validators, error) {
	vals, err := p.rdb.HMGet(ctx, keyFeed(urlHash(feedURL)), fieldETag, fieldLastModified).Result()
	if err != nil {
		return validators{}, err
	}
	etag, _ := vals[0].(string)
	lastModified, _ := vals[1].(string)
	return validators{etag: etag, lastModified: lastModified}, nil
}

// saveValidators replaces the feed's validators with those of h.
func (p *Poller) saveValidators(ctx context.Context, feedURL string, h http.Header) error {
	key := keyFeed(urlHash(feedURL))
	var fields []any
	for field, v := range map[string]string{fieldETag: h.Get("ETag"), fieldLastModified: h.Get("Last-Modified")} {
		if v != "" && len(v) <= maxValidatorLen {
			fields = append(fields, field, v)
		}
	}
	_, err := p.rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Del(ctx, key)
		if len(fields) > 0 {
			pipe.HSet(ctx, key, fields...)
			pipe.Expire(ctx, key, validatorsTTL)
		}
		return nil
	})
	return err
}

// touchValidators keeps the feed's validators for another validatorsTTL.
func (p *Poller) touchValidators(ctx context.Context, feedURL string) error {
	return p.rdb.Expire(ctx, keyFeed(urlHash(feedURL)), validatorsTTL).Err()
}
