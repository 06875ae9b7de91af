package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"newsletter/api"
	"newsletter/articles"
	"newsletter/bounces"
	"newsletter/delivery"
	"newsletter/digests"
	"newsletter/mailer"
	"newsletter/metrics"
	"newsletter/subscribers"
	"newsletter/templates"
	"newsletter/throttle"
	"newsletter/worker"
)

// Mode says which parts of the service a process runs.
type Mode string

// The modes, one per subcommand.
const (
	ModeAll     Mode = "run"
	ModeServe   Mode = "serve"
	ModeWorker  Mode = "worker"
	ModeInbound Mode = "inbound"
)

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool {
	return m == ModeAll || m == ModeServe || m == ModeWorker || m == ModeInbound
}

func (m Mode) serves() bool { return m == ModeAll || m == ModeServe }
func (m Mode) works() bool  { return m == ModeAll || m == ModeWorker }

// Main is the whole program, so that tests can run it on :0.
type Main struct {
	Config Config
	Logger *slog.Logger

	mini      *miniredis.Miniredis
	rdb       redis.UniversalClient
	ready     func(context.Context) error // the /readyz check; nil: a PING
	sender    mailer.Sender
	bulk      mailer.BulkSender
	enqueuer  *worker.Enqueuer
	worker    *worker.Server
	scheduler *worker.Scheduler
	http      *http.Server
	metricsLn *metricsListener
	inbound   *inboundListener
	queueUI   *worker.QueueUI
	listener  net.Listener
	served    chan error
	parts     parts
	metrics   *metrics.Metrics
	closing   sync.Once
	closeErr  error
}

// NewMain returns a Main for cfg that logs to logger.
func NewMain(cfg Config, logger *slog.Logger) *Main {
	return &Main{Config: cfg, Logger: logger}
}

// Run connects to Redis, then starts the parts of the service that mode
// names, and returns once they run.
func (m *Main) Run(ctx context.Context, mode Mode) error {
	if err := m.devDefaults(); err != nil {
		return err
	}
	if err := m.connect(ctx); err != nil {
		return err
	}
	m.warnDeliverability()
	tpl, err := templates.Load(m.Config.TemplatesDir)
	if err != nil {
		return &ConfigError{"NEWSLETTER_TEMPLATES_DIR", err.Error()}
	}
	signer, err := subscribers.NewSigner(m.Config.Secrets)
	if err != nil {
		return &ConfigError{"NEWSLETTER_SECRET", err.Error()}
	}
	p := parts{store: subscribers.NewStore(m.rdb), articles: articles.NewStore(m.rdb),
		digests: digests.NewStore(m.rdb), signer: signer, templates: tpl}
	if p.links, err = digests.NewLinks(m.Config.BaseURL, m.Config.Secrets, m.Config.TrackOpens); err != nil {
		return &ConfigError{"NEWSLETTER_SECRET", err.Error()}
	}
	p.store.MinReplicas, p.digests.Retention = m.Config.MinReplicas, m.Config.DigestRetention
	m.parts = p
	m.metrics = m.newMetrics(p)
	store := p.store
	if m.Config.DevMode() {
		if err := m.seedDev(ctx, store); err != nil {
			return err
		}
	}
	svc, ds, err := m.newServices(p)
	if err != nil {
		return err
	}
	if mode.works() {
		if err := m.startWorker(p, svc, ds); err != nil {
			return err
		}
	}
	if err := m.startInbound(mode, svc); err != nil {
		return err
	}
	if mode.serves() {
		return m.startHTTP(p, svc, ds)
	}
	return nil
}

// parts are the stores and helpers that the worker and the HTTP server share.
type parts struct {
	store     *subscribers.Store
	articles  *articles.Store
	digests   *digests.Store
	signer    *subscribers.Signer
	templates *templates.Set
	links     *digests.Links // digests' signed click links and open pixel
}

// connect opens Redis: the configured one, or in dev mode an embedded one.
func (m *Main) connect(ctx context.Context) error {
	target := m.Config.Redis
	if m.Config.DevMode() {
		m.mini = miniredis.NewMiniRedis()
		if err := m.mini.Start(); err != nil {
			return fmt.Errorf("start embedded Redis: %w", err)
		}
		m.Logger.Warn("Dev mode, nothing is kept: running on an embedded in-memory Redis; set NEWSLETTER_REDIS_URL to keep data")
		target = nodeTarget(&redis.Options{Addr: m.mini.Addr()})
	}
	m.rdb = target.NewClient()
	if err := pingRedis(ctx, m.rdb, target); err != nil {
		return err
	}
	if !m.Config.DevMode() {
		m.ready = readiness(m.rdb)
		pctx, cancel := context.WithTimeout(ctx, pingTimeout)
		defer cancel()
		warnIfVolatile(pctx, m.rdb, m.Logger)
	}
	return nil
}

// newSenders returns the sender of confirmation and welcome emails, on a
// connection of its own so they never wait behind a digest, and the
// connection pool for digests.
func (m *Main) newSenders() (transactional mailer.Sender, bulk mailer.BulkSender) {
	if m.Config.SMTPURL != "" {
		return mailer.NewSMTP(m.Config.SMTP), mailer.NewPool(m.Config.SMTP, m.Config.SMTPConnections)
	}
	m.logOutbox()
	outbox := mailer.NewOutbox(m.Config.OutboxDir)
	outbox.DKIM = m.Config.DKIM
	return outbox, outbox
}

// logOutbox says where mail goes without NEWSLETTER_SMTP_URL: a warning
// outside dev mode, where nobody reads an outbox folder by chance.
func (m *Main) logOutbox() {
	dir, err := filepath.Abs(m.Config.OutboxDir)
	if err != nil {
		dir = m.Config.OutboxDir
	}
	if m.Config.DevMode() {
		m.Logger.Info("No NEWSLETTER_SMTP_URL: writing mail to the outbox folder", "dir", dir)
		return
	}
	m.Logger.Warn("NEWSLETTER_SMTP_URL is unset: mail is written as .eml files to the folder "+dir+" (NEWSLETTER_OUTBOX_DIR) and not sent", "dir", dir)
}

func (m *Main) newServices(p parts) (*subscribers.Service, *digests.Service, error) {
	enq, err := worker.NewEnqueuer(m.rdb, m.Config.Secrets)
	if err != nil {
		return nil, nil, err
	}
	m.enqueuer = enq
	svc := subscribers.NewService(p.store, enq, m.Logger)
	svc.ConfirmTTL, svc.Signer, svc.ConsentWording = m.Config.ConfirmTTL, p.signer, m.Config.ConsentWording
	if svc.Sealer, err = subscribers.NewSealer(m.Config.Secrets); err != nil {
		return nil, nil, err
	}
	svc.Limits = subscribers.NewConfirmLimits(m.rdb, throttle.Rate(m.Config.ConfirmationRate))
	ds := &digests.Service{Store: p.digests, Articles: p.articles, Readers: p.store, NormalizeAddress: subscribers.NormalizeAddress,
		Dispatcher: enq, Now: time.Now}
	return svc, ds, nil
}

func (m *Main) startWorker(p parts, svc *subscribers.Service, ds *digests.Service) error {
	var err error
	m.sender, m.bulk = m.newSenders()
	engine := &delivery.Engine{Store: p.store, Digests: p.digests, Signer: p.signer, Templates: p.templates,
		Sender: m.sender, Bulk: m.bulk, Throttle: throttle.NewSend(m.rdb, m.Config.SendRate),
		BaseURL: m.Config.BaseURL, From: m.Config.From, PostalAddress: m.Config.PostalAddress, ConfirmTTL: m.Config.ConfirmTTL,
		LogLinks: m.Config.DevMode(), Logger: m.Logger, Metrics: m.metrics, RecordEvery: m.Config.RecordEvery}
	engine.Links = p.links
	if m.Config.BounceAddress != "" {
		if engine.Bounces, err = bounces.NewAddresses(m.Config.BounceAddress, m.Config.Secrets); err != nil {
			return &ConfigError{"NEWSLETTER_BOUNCE_ADDRESS", err.Error()}
		}
	}
	h := &worker.Handlers{Engine: engine, DigestService: ds, Newsletters: p.store,
		Poller: m.feedPoller(p), Logger: m.Logger,
		Subscribers: svc, UnconfirmedTTL: m.Config.UnconfirmedTTL}
	if m.worker, err = worker.NewServer(m.rdb, h, worker.ServerConfig{Secrets: m.Config.Secrets, BulkConcurrency: m.Config.SMTPConnections}); err != nil {
		return err
	}
	if err := m.worker.Start(); err != nil {
		return err
	}
	sched := worker.SchedulerConfig{Tick: m.Config.ScheduleTick, FeedEvery: m.Config.FeedInterval}
	if m.scheduler, err = worker.NewScheduler(m.rdb, sched, m.Logger); err != nil {
		return err
	}
	return m.scheduler.Start()
}

// Limits of the HTTP server that have no variable of their own.
const (
	authFailuresPerMinute = 10               // requests with a missing or wrong editor token, per client IP
	countsPerMinute       = 120              // clicks and opens counted per client IP; the links work past it
	requestTimeout        = 20 * time.Second // a whole request once its headers are read; under WriteTimeout
)

func (m *Main) startHTTP(p parts, svc *subscribers.Service, ds *digests.Service) error {
	m.queueUI = worker.NewQueueUI(m.rdb, api.QueueUIPath)
	srv := api.New(api.Config{Metrics: m.metrics, MetricsElsewhere: m.Config.MetricsAddr != "", Subscribers: svc, Newsletters: svc, Articles: p.articles, Digests: ds, Templates: p.templates, PostalAddress: m.Config.PostalAddress,
		APITokens: m.Config.APITokens, ConfirmTTL: m.Config.ConfirmTTL, BaseURL: m.Config.BaseURL, TrustedProxies: m.Config.TrustedProxies, Logger: m.Logger,
		AllowedOrigins:     m.Config.AllowedOrigins,
		SignupLimit:        throttle.NewWindow(m.rdb, "nl:{nl}:throttle:signup:", throttle.Rate(m.Config.SignupRate)),
		SignupNetworkLimit: throttle.NewWindow(m.rdb, "nl:{nl}:throttle:signup48:", networkRate(throttle.Rate(m.Config.SignupRate))),
		AuthFailureLimit:   throttle.NewWindow(m.rdb, "nl:{nl}:throttle:authfail:", throttle.Rate{N: authFailuresPerMinute, Per: time.Minute}),
		CountLimit:         throttle.NewWindow(m.rdb, "nl:{nl}:throttle:count:", throttle.Rate{N: countsPerMinute, Per: time.Minute}),
		RequestTimeout:     requestTimeout,
		SessionKey:         sessionKey(m.Config.Secrets),
		QueueUI:            m.queueUI,
		Ready:              m.ready,
		Webhooks:           m.Config.Webhooks,
		Links:              p.links})
	ln, err := net.Listen("tcp", m.Config.HTTPAddr)
	if err != nil {
		return &ConfigError{"NEWSLETTER_HTTP_ADDR", err.Error()}
	}
	m.listener = ln
	m.http = &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn)}
	m.served = make(chan error, 1)
	go func() { m.served <- m.http.Serve(ln) }()
	m.Logger.Info("HTTP server listening", "addr", ln.Addr().String(), "base_url", m.Config.BaseURL)
	if m.Config.MetricsAddr != "" && m.metrics != nil {
		if m.metricsLn, err = serveMetrics(m.Config.MetricsAddr, m.metrics.Handler(), m.Logger); err != nil {
			return err
		}
	}
	return nil
}

// feedPoller is the poller of newsletters' feeds: public addresses only,
// unless NEWSLETTER_FEED_ALLOW_PRIVATE (dev mode's default).
func (m *Main) feedPoller(p parts) *articles.Poller {
	poller := articles.NewPoller(m.rdb, p.articles, m.Logger)
	poller.Client = articles.FeedClient(m.Config.FeedAllowPrivate)
	return poller
}

// networkRate is the signup limit of an IPv6 /48: ten times a client's.
func networkRate(r throttle.Rate) throttle.Rate {
	if r.Unlimited() {
		return r
	}
	r.N *= 10
	return r
}

// Addr returns the address the HTTP server listens on, once Run returned.
func (m *Main) Addr() string {
	if m.listener == nil {
		return ""
	}
	return m.listener.Addr().String()
}

// Close stops taking work, finishes or hands back what is in flight, and
// releases every connection. Calls after the first return the first's result.
func (m *Main) Close() error {
	m.closing.Do(func() { m.closeErr = m.close() })
	return m.closeErr
}

func (m *Main) close() error {
	var errs []error
	if m.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, m.http.Shutdown(ctx))
		cancel()
		if err := <-m.served; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if m.metricsLn != nil {
		errs = append(errs, m.metricsLn.close())
	}
	if m.inbound != nil {
		errs = append(errs, m.inbound.close())
	}
	if m.queueUI != nil {
		errs = append(errs, m.queueUI.Close())
	}
	if m.scheduler != nil {
		m.scheduler.Shutdown()
	}
	if m.worker != nil {
		m.worker.Shutdown()
	}
	if m.sender != nil {
		errs = append(errs, m.sender.Close())
	}
	if m.bulk != nil && m.bulk != m.sender {
		errs = append(errs, m.bulk.Close())
	}
	// Last: the stores, the asynq servers, the scheduler and the queue
	// monitor all share this one client, and none of them closes it.
	if m.rdb != nil {
		errs = append(errs, m.rdb.Close())
	}
	if m.mini != nil {
		m.mini.Close()
	}
	return errors.Join(errs...)
}

// sessionKey derives the key of the editor pages' session cookies from the
// first secret, so every process of a site accepts the same sessions.
func sessionKey(secrets []string) []byte {
	if len(secrets) == 0 {
		return nil
	}
	k := sha256.Sum256([]byte("admin-session\x00" + secrets[0]))
	return k[:]
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
