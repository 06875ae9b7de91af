package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"
)

// TestWebhookConfig: each provider's webhook is off while its variable is
// unset, on with a good value, and a bad value is an error naming the
// variable but never the secret.
func TestWebhookConfig(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	good := map[string]string{
		"NEWSLETTER_WEBHOOK_SES_TOPICS":    "arn:aws:sns:eu-west-1:123456789012:ses-bounces, arn:aws-cn:sns:cn-north-1:123456789012:b",
		"NEWSLETTER_WEBHOOK_POSTMARK_AUTH": "hooks:0123456789abcdef",
		"NEWSLETTER_WEBHOOK_MAILGUN_KEY":   "key-3ax6xnjp29jd6fds4gc373sgvjxteol0",
		"NEWSLETTER_WEBHOOK_SENDGRID_KEY":  base64.StdEncoding.EncodeToString(der),
	}
	cfg, err := LoadConfig(func(k string) string { return good[k] })
	if err != nil {
		t.Fatal(err)
	}
	w := cfg.Webhooks
	if w.SES == nil || len(w.SES.Topics) != 2 || w.PostmarkAuth != good["NEWSLETTER_WEBHOOK_POSTMARK_AUTH"] ||
		w.MailgunKey == "" || w.SendGridKey == nil || !w.SendGridKey.Equal(&key.PublicKey) {
		t.Errorf("webhooks = %+v, want all four on", w)
	}
	if off, _ := LoadConfig(func(string) string { return "" }); off.Webhooks.SES != nil || off.Webhooks.PostmarkAuth != "" ||
		off.Webhooks.MailgunKey != "" || off.Webhooks.SendGridKey != nil {
		t.Errorf("webhooks without variables = %+v, want all off", off.Webhooks)
	}
	for _, tc := range []struct{ name, value string }{
		{"NEWSLETTER_WEBHOOK_SES_TOPICS", "my-topic"},
		{"NEWSLETTER_WEBHOOK_SES_TOPICS", "arn:aws:sqs:eu-west-1:123456789012:queue"},
		{"NEWSLETTER_WEBHOOK_POSTMARK_AUTH", "secret-password-without-user"},
		{"NEWSLETTER_WEBHOOK_POSTMARK_AUTH", "hooks:short-secret"},
		{"NEWSLETTER_WEBHOOK_SENDGRID_KEY", "c2VjcmV0LWJ1dC1ub3QtYS1rZXk="},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			_, err := LoadConfig(func(k string) string { return map[string]string{tc.name: tc.value}[k] })
			if err == nil || !strings.HasPrefix(err.Error(), tc.name+": ") {
				t.Fatalf("err = %v, want one naming %s", err, tc.name)
			}
			if tc.name == "NEWSLETTER_WEBHOOK_POSTMARK_AUTH" && strings.Contains(err.Error(), "secret") {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
}
