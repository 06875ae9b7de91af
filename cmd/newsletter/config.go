package main

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"newsletter"
	"newsletter/api"
	"newsletter/bounces"
	"newsletter/digests"
	"newsletter/internal/redisurl"
	"slices"
	"strconv"
	"strings"
	"time"

	"newsletter/mailer"
	"newsletter/subscribers"
)

// Config is the service's configuration, read from NEWSLETTER_* variables.
type Config struct {
	HTTPAddr         string
	MetricsAddr      string // a listener of its own for /metrics, without token; "" serves it to editors on HTTPAddr
	BaseURL          string
	RedisURL         string       // empty: dev mode on an embedded Redis
	Redis            *RedisTarget // parsed RedisURL; nil in dev mode
	SMTPURL          string       // empty: write mail to OutboxDir
	SMTP             mailer.SMTPConfig
	SMTPConnections  int // persistent connections per worker for digests
	RecordEvery      int // digest outcomes a batch holds before recording them
	MinReplicas      int // replicas that must hold a reader's write before it is answered
	DigestRetention  time.Duration
	DKIM             *mailer.DKIM // signs every message when configured
	OutboxDir        string
	From             string
	Secrets          []string
	APITokens        []string
	SendRate         int
	ConfirmTTL       time.Duration
	ConsentWording   string        // the version of the consent wording the forms show
	UnconfirmedTTL   time.Duration // unconfirmed subscriptions older than this are purged
	AllowedOrigins   []string
	TrustedProxies   []netip.Prefix
	SignupRate       Rate
	ConfirmationRate Rate
	TemplatesDir     string
	LogFormat        string
	ScheduleTick     time.Duration // how often newsletters' schedules are checked
	FeedInterval     time.Duration // how often newsletters' feeds are polled
	FeedAllowPrivate bool          // feeds may be at loopback and private addresses
	BounceAddress    string        // envelope sender of digests, tagged per recipient (VERP); "" for the From
	InboundAddr      string        // listen address of the inbound SMTP listener; "" for none
	PostalAddress    string        // the sender's postal address in digests' and welcome emails' footers; "" for none
	TrackOpens       bool          // digests carry an aggregate-only open pixel
	Webhooks         api.Webhooks  // the providers' bounce and complaint webhooks; each off while unset
}

// DevMode reports whether the service runs without a configured Redis.
func (c *Config) DevMode() bool { return c.RedisURL == "" }

// Rate is a count per period, written like "10/m".
type Rate struct {
	N   int
	Per time.Duration
}

// ConfigError names the variable whose value is wrong.
type ConfigError struct {
	Var string
	Msg string
}

func (e *ConfigError) Error() string { return e.Var + ": " + e.Msg }

// LoadConfig reads the configuration through getenv and checks every value.
// Its error names every variable that is wrong, one *ConfigError a line
// (errors.Join), in the order it reads them.
func LoadConfig(getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	c := Config{
		HTTPAddr:         r.str("NEWSLETTER_HTTP_ADDR", ":8080"),
		MetricsAddr:      r.str("NEWSLETTER_METRICS_ADDR", ""),
		BaseURL:          strings.TrimRight(r.webURL("NEWSLETTER_BASE_URL", "http://localhost:8080"), "/"),
		RedisURL:         r.str("NEWSLETTER_REDIS_URL", ""),
		SMTPURL:          r.str("NEWSLETTER_SMTP_URL", ""),
		OutboxDir:        r.str("NEWSLETTER_OUTBOX_DIR", "./outbox"),
		From:             r.sender("NEWSLETTER_FROM", "Newsletter <newsletter@localhost>"),
		Secrets:          r.list("NEWSLETTER_SECRET"),
		APITokens:        r.list("NEWSLETTER_API_TOKENS"),
		SendRate:         r.count("NEWSLETTER_SEND_RATE", 0),
		SMTPConnections:  r.count("NEWSLETTER_SMTP_CONNECTIONS", 4),
		RecordEvery:      r.count("NEWSLETTER_RECORD_EVERY", 1),
		MinReplicas:      r.count("NEWSLETTER_REDIS_MIN_REPLICAS", 0),
		DigestRetention:  r.duration("NEWSLETTER_DIGEST_RETENTION", digests.DefaultRetention),
		ConfirmTTL:       r.duration("NEWSLETTER_CONFIRM_TTL", subscribers.DefaultConfirmTTL),
		ConsentWording:   r.str("NEWSLETTER_CONSENT_WORDING_VERSION", "1"),
		UnconfirmedTTL:   r.duration("NEWSLETTER_UNCONFIRMED_TTL", subscribers.DefaultUnconfirmedTTL),
		AllowedOrigins:   r.origins("NEWSLETTER_ALLOWED_ORIGINS"),
		TrustedProxies:   r.cidrs("NEWSLETTER_TRUSTED_PROXIES"),
		SignupRate:       r.rate("NEWSLETTER_SIGNUP_RATE", "10/m"),
		ConfirmationRate: r.rate("NEWSLETTER_CONFIRMATION_RATE", "1000/m"),
		TemplatesDir:     r.str("NEWSLETTER_TEMPLATES_DIR", ""),
		LogFormat:        r.oneOf("NEWSLETTER_LOG_FORMAT", "text", "text", "json"),
		ScheduleTick:     r.duration("NEWSLETTER_SCHEDULE_TICK", time.Minute),
		FeedInterval:     r.duration("NEWSLETTER_FEED_INTERVAL", 10*time.Minute),
		FeedAllowPrivate: r.boolean("NEWSLETTER_FEED_ALLOW_PRIVATE", r.getenv("NEWSLETTER_REDIS_URL") == ""),
		BounceAddress:    r.str("NEWSLETTER_BOUNCE_ADDRESS", ""),
		InboundAddr:      r.str("NEWSLETTER_INBOUND_ADDR", ""),
		PostalAddress:    strings.TrimSpace(r.str("NEWSLETTER_POSTAL_ADDRESS", "")),
		TrackOpens:       r.boolean("NEWSLETTER_TRACK_OPENS", false),
	}
	c.Redis = r.redisTarget("NEWSLETTER_REDIS_URL", c.RedisURL)
	c.SMTP = r.smtp("NEWSLETTER_SMTP_URL", c.SMTPURL)
	c.DKIM = r.dkim()
	c.Webhooks = r.webhooks()
	c.SMTP.DKIM = c.DKIM
	c.validate(&r)
	return c, errors.Join(r.errs...)
}

// validate checks what spans several variables, or what a value read well
// may still get wrong.
func (c *Config) validate(r *reader) {
	if c.BounceAddress != "" {
		if _, err := bounces.NewAddresses(c.BounceAddress, []string{"x"}); err != nil {
			r.fail("NEWSLETTER_BOUNCE_ADDRESS", "must be a plain address such as bounces@bounce.example.org (its domain's MX points at NEWSLETTER_INBOUND_ADDR)")
		}
	}
	if len(c.PostalAddress) > maxPostalAddress {
		r.fail("NEWSLETTER_POSTAL_ADDRESS", "must be at most %d characters", maxPostalAddress)
	}
	if !c.DevMode() && len(c.Secrets) == 0 {
		r.fail("NEWSLETTER_SECRET", "required when NEWSLETTER_REDIS_URL is set (comma-separated keys, the first signs)")
	}
	for _, s := range c.Secrets {
		if len(s) < 16 {
			r.fail("NEWSLETTER_SECRET", "each key must be at least 16 characters long")
		}
	}
	if c.SMTPConnections < 1 || c.SMTPConnections > 100 {
		r.fail("NEWSLETTER_SMTP_CONNECTIONS", "must be from 1 to 100")
	}
	if c.MinReplicas > 10 {
		r.fail("NEWSLETTER_REDIS_MIN_REPLICAS", "must be from 0 to 10")
	}
	if c.RecordEvery < 1 || c.RecordEvery > 100 {
		r.fail("NEWSLETTER_RECORD_EVERY", "must be from 1 to 100")
	}
	if c.UnconfirmedTTL < c.ConfirmTTL {
		r.fail("NEWSLETTER_UNCONFIRMED_TTL", "must be at least NEWSLETTER_CONFIRM_TTL, or links would confirm purged sign-ups")
	}
	if !c.DevMode() && len(c.APITokens) == 0 {
		r.fail("NEWSLETTER_API_TOKENS", "required when NEWSLETTER_REDIS_URL is set")
	}
	for _, t := range c.APITokens {
		if !c.DevMode() && len(t) < minEditorToken {
			r.fail("NEWSLETTER_API_TOKENS", "each editor token must be at least %d characters (make one with: openssl rand -hex 32)", minEditorToken)
			break
		}
	}
}

// minEditorToken is the shortest editor token production accepts: long
// enough that guessing it, at the failure limit, takes forever.
const minEditorToken = 32

// reader reads variables, collecting one error per wrong variable so that
// LoadConfig reads like a table and names every mistake at once.
type reader struct {
	getenv func(string) string
	errs   []error
	failed map[string]bool
}

// fail notes what is wrong with variable name, unless it already has an
// error: a value that could not be read is not judged again.
func (r *reader) fail(name, format string, args ...any) {
	if r.failed[name] {
		return
	}
	if r.failed == nil {
		r.failed = map[string]bool{}
	}
	r.failed[name] = true
	r.errs = append(r.errs, &ConfigError{Var: name, Msg: fmt.Sprintf(format, args...)})
}

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) list(name string) []string {
	var out []string
	for _, v := range strings.Split(r.getenv(name), ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (r *reader) webURL(name, def string) string {
	v := r.str(name, def)
	if !newsletter.IsWebURL(v) {
		r.fail(name, "%q is not an http or https URL", v)
	}
	return v
}

func (r *reader) sender(name, def string) string {
	v := r.str(name, def)
	if _, err := mail.ParseAddress(v); err != nil || strings.ContainsAny(v, "\r\n") {
		r.fail(name, "%q is not an address like \"Daily Brief <news@example.org>\"", v)
	}
	return v
}

func (r *reader) count(name string, def int) int {
	v := r.str(name, strconv.Itoa(def))
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		r.fail(name, "%q is not a whole number of zero or more", v)
	}
	return n
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := r.str(name, def.String())
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.fail(name, "%q is not a positive duration such as 168h", v)
	}
	return d
}

func (r *reader) boolean(name string, def bool) bool {
	v := r.str(name, strconv.FormatBool(def))
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, "%q is not true or false", v)
	}
	return b
}

func (r *reader) oneOf(name, def string, allowed ...string) string {
	v := r.str(name, def)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.fail(name, "%q is not one of %s", v, strings.Join(allowed, ", "))
	return def
}

func (r *reader) origins(name string) []string {
	list := r.list(name)
	for _, o := range list {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			r.fail(name, "%q is not an origin such as https://www.example.org", o)
		}
	}
	return list
}

func (r *reader) cidrs(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, v := range r.list(name) {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			r.fail(name, "%q is not a CIDR such as 10.0.0.0/8", v)
		}
		out = append(out, p)
	}
	return out
}

var ratePeriods = map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}

func (r *reader) rate(name, def string) Rate {
	v := r.str(name, def)
	n, per, ok := strings.Cut(v, "/")
	count, err := strconv.Atoi(n)
	if !ok || err != nil || count <= 0 || ratePeriods[per] == 0 {
		r.fail(name, "%q is not a rate such as 10/m (per s, m, h or d)", v)
		return Rate{}
	}
	return Rate{N: count, Per: ratePeriods[per]}
}

func (r *reader) redisTarget(name, raw string) *RedisTarget {
	if raw == "" {
		return nil
	}
	t, err := ParseRedisURL(raw)
	if err != nil {
		r.fail(name, "%v", err)
		return nil
	}
	return t
}

// dkim loads the DKIM key when the three DKIM variables are set; setting
// only some of them is an error.
func (r *reader) dkim() *mailer.DKIM {
	domain, selector, keyFile := r.str("NEWSLETTER_DKIM_DOMAIN", ""), r.str("NEWSLETTER_DKIM_SELECTOR", ""), r.str("NEWSLETTER_DKIM_KEY_FILE", "")
	if domain == "" && selector == "" && keyFile == "" {
		return nil
	}
	missing := false
	for _, v := range [][2]string{{"NEWSLETTER_DKIM_DOMAIN", domain}, {"NEWSLETTER_DKIM_SELECTOR", selector}, {"NEWSLETTER_DKIM_KEY_FILE", keyFile}} {
		if v[1] == "" {
			r.fail(v[0], "set it too, or none of the NEWSLETTER_DKIM_* variables")
			missing = true
		}
	}
	if missing {
		return nil
	}
	d, err := mailer.LoadDKIM(domain, selector, keyFile)
	if err != nil {
		r.fail("NEWSLETTER_DKIM_KEY_FILE", "%v", err)
	}
	return d
}

func (r *reader) smtp(name, raw string) mailer.SMTPConfig {
	if raw == "" {
		return mailer.SMTPConfig{}
	}
	raw, msg := smtpURL(raw)
	if msg != "" {
		r.fail(name, "%s", msg)
		return mailer.SMTPConfig{}
	}
	cfg, err := mailer.ParseSMTPURL(raw)
	if err != nil {
		r.fail(name, "%v", err)
	}
	return cfg
}

// smtpURL returns raw as mailer.ParseSMTPURL reads it: smtps://... becomes
// smtp://...?tls=tls (implicit TLS, port 465 unless the URL names one).
// msg says what is wrong when raw has no scheme or one of neither.
func smtpURL(raw string) (out, msg string) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		hint := "smtp://"
		if strings.HasSuffix(raw, ":465") {
			hint = "smtps://"
		}
		return "", noScheme(raw, hint)
	}
	switch strings.ToLower(scheme) {
	case "smtp":
		return raw, ""
	case "smtps":
	default:
		return "", fmt.Sprintf("unknown scheme %q (want smtp:// or smtps://)", scheme)
	}
	out = "smtp://" + rest
	_, query, _ := strings.Cut(rest, "?")
	q, err := url.ParseQuery(query)
	switch {
	case err != nil || q.Get("tls") == "tls":
		return out, "" // ParseSMTPURL says what is wrong, without the password
	case q.Has("tls"):
		return "", fmt.Sprintf("smtps:// means tls=tls, not tls=%s: write smtp://...?tls=%s, or leave tls out", q.Get("tls"), q.Get("tls"))
	case query == "" && !strings.Contains(rest, "?"):
		return out + "?tls=tls", ""
	}
	return out + "&tls=tls", ""
}

// noScheme says that raw, an address written without its scheme, needs
// one (redisurl.NoScheme).
var noScheme = redisurl.NoScheme

// webhooks reads the providers' webhook settings; each provider's webhook
// is off while its variable is unset. No message names a secret's value.
func (r *reader) webhooks() api.Webhooks {
	return api.Webhooks{
		SES:          r.sesWebhook("NEWSLETTER_WEBHOOK_SES_TOPICS"),
		PostmarkAuth: r.basicAuth("NEWSLETTER_WEBHOOK_POSTMARK_AUTH"),
		MailgunKey:   r.str("NEWSLETTER_WEBHOOK_MAILGUN_KEY", ""),
		SendGridKey:  r.sendgridKey("NEWSLETTER_WEBHOOK_SENDGRID_KEY"),
	}
}

// sesWebhook reads the SNS topic ARNs whose SES notifications are taken.
func (r *reader) sesWebhook(name string) *api.SESWebhook {
	topics := r.list(name)
	if len(topics) == 0 {
		return nil
	}
	for _, t := range topics {
		parts := strings.Split(t, ":")
		if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sns" || slices.Contains(parts, "") {
			r.fail(name, "%q is not an SNS topic ARN such as arn:aws:sns:eu-west-1:123456789012:ses-bounces", t)
		}
	}
	return &api.SESWebhook{Topics: topics}
}

// basicAuth reads "user:password" credentials, the password at least 16
// characters long.
func (r *reader) basicAuth(name string) string {
	v := r.str(name, "")
	if user, password, ok := strings.Cut(v, ":"); v != "" && (!ok || user == "" || len(password) < 16) {
		r.fail(name, "must be user:password, the password at least 16 characters (make one with: openssl rand -hex 16)")
	}
	return v
}

// sendgridKey reads the verification key of SendGrid's signed event webhook.
func (r *reader) sendgridKey(name string) *ecdsa.PublicKey {
	v := r.str(name, "")
	if v == "" {
		return nil
	}
	key, err := api.ParseSendGridKey(v)
	if err != nil {
		r.fail(name, "%v", err)
	}
	return key
}
