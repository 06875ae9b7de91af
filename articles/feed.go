package articles

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/redis/go-redis/v9"

	"newsletter"
)

// Manners and limits of the Poller.
const (
	UserAgent      = "newsletter-feed-poller/1"
	MaxFeedSize    = 10 << 20 // bytes of feed read, after any decompression
	DefaultTimeout = 20 * time.Second
)

// Poller fetches feeds and turns new items into articles.
type Poller struct {
	Store  *Store
	Client *http.Client // nil: FeedClient(false), public addresses only
	Logger *slog.Logger
	Now    func() time.Time

	rdb redis.UniversalClient // for the feeds' validators
}

// NewPoller returns a Poller that keeps feed validators in rdb and articles
// in store (a Store on rdb when nil), and logs to logger (nowhere when nil).
// It fetches feeds at public addresses only (FeedClient): set Client to
// FeedClient(true) to allow private ones.
func NewPoller(rdb redis.UniversalClient, store *Store, logger *slog.Logger) *Poller {
	if store == nil {
		store = NewStore(rdb)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Poller{
		Store:  store,
		Client: FeedClient(false),
		Logger: logger,
		Now:    time.Now,
		rdb:    rdb,
	}
}

// Poll fetches the feed at feedURL (RSS, Atom or JSON Feed) with a
// conditional GET and files each item whose link is not an article yet as
// an article of the given newsletters. It returns the number of articles
// added. Items already known are left alone, so a feed that several
// newsletters list should be polled once, with all of them.
//
// The feed's ETag and Last-Modified are kept after each successful fetch
// and sent back as If-None-Match and If-Modified-Since; a 304 answer adds
// nothing. Items without an http or https link, or that do not make a
// valid article, are skipped and logged at debug level. An answer other
// than 2xx or 304, a body over MaxFeedSize or one that does not parse as a
// feed is an error, and nothing is stored.
func (p *Poller) Poll(ctx context.Context, feedURL string, newsletters []string) (added int, err error) {
	if p.Store == nil || p.rdb == nil {
		return 0, errors.New("articles: poll: a Poller is made with NewPoller")
	}
	u, err := checkPoll(feedURL, newsletters)
	if err != nil {
		return 0, err
	}
	added, err = p.poll(ctx, feedURL, u.Redacted(), uniq(newsletters))
	if err != nil {
		return 0, fmt.Errorf("articles: poll %s: %w", u.Redacted(), err)
	}
	if added > 0 {
		p.logger().Debug("Added articles from feed", "feed_url", u.Redacted(), "added", added)
	}
	return added, nil
}

func checkPoll(feedURL string, newsletters []string) (*url.URL, error) {
	if !isWebURL(feedURL) {
		return nil, newsletter.Errorf(newsletter.EINVALID, "A feed URL is an http or https URL.")
	}
	if fail := checkIDs(newsletters); fail != "" {
		return nil, newsletter.Errorf(newsletter.EINVALID, "%s", fail)
	}
	return url.Parse(feedURL)
}

// poll does the work of Poll; label names the feed in logs.
func (p *Poller) poll(ctx context.Context, feedURL, label string, newsletters []string) (int, error) {
	state, err := p.loadValidators(ctx, feedURL)
	if err != nil {
		return 0, err
	}
	resp, err := p.fetch(ctx, feedURL, state)
	if err != nil {
		return 0, err
	}
	defer closeBody(resp.Body)
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return 0, p.touchValidators(ctx, feedURL)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return 0, fmt.Errorf("unexpected status %s", resp.Status)
	}
	feed, err := readFeed(resp.Body)
	if err != nil {
		return 0, err
	}
	arts := p.articles(feed.Items, resp.Request.URL, newsletters, label)
	added, _, err := p.Store.write(ctx, arts, true)
	if err != nil {
		return 0, err
	}
	return added, p.saveValidators(ctx, feedURL, resp.Header)
}

// fetch sends the conditional GET for feedURL.
func (p *Poller) fetch(ctx context.Context, feedURL string, v validators) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, feedURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8")
	if v.etag != "" {
		req.Header.Set("If-None-Match", v.etag)
	}
	if v.lastModified != "" {
		req.Header.Set("If-Modified-Since", v.lastModified)
	}
	return p.client().Do(req)
}

func (p *Poller) client() *http.Client {
	if p.Client != nil {
		return p.Client
	}
	return FeedClient(false)
}

func (p *Poller) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (p *Poller) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// readFeed reads at most MaxFeedSize bytes of body and parses them.
func readFeed(body io.Reader) (*gofeed.Feed, error) {
	raw, err := io.ReadAll(io.LimitReader(body, MaxFeedSize+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if len(raw) > MaxFeedSize {
		return nil, fmt.Errorf("feed is larger than %d bytes", MaxFeedSize)
	}
	return parseFeed(raw)
}

// parseFeed parses raw, turning a panic of the parser into an error: a
// feed is input from elsewhere and must not bring the worker down.
func parseFeed(raw []byte) (feed *gofeed.Feed, err error) {
	defer func() {
		if r := recover(); r != nil {
			feed, err = nil, fmt.Errorf("parse: parser panicked: %v", r)
		}
	}()
	feed, err = gofeed.NewParser().Parse(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	return feed, nil
}

// closeBody reads a little of what is left of body, so the connection can
// be reused, and closes it.
func closeBody(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}
