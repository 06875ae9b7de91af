package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestGetSubscriberUnknown(t *testing.T) {
	e := newEnv(t)
	for _, addr := range []string{"nobody@example.org", "not-an-address"} {
		wantJSONError(t, e.editor("GET", "/v1/subscribers/"+addr, ""), http.StatusNotFound, "not_found")
	}
}

func TestGetSubscriberAfterSignup(t *testing.T) {
	e := newEnv(t)
	e.putNewsletter("daily", "Daily")
	start := time.Now().Add(-time.Second)
	r := e.postJSON(`{"email":"reader@example.org","newsletters":["daily"],"source":"https://news.example.org/a"}`,
		"User-Agent", "test-agent/1.0", "X-Forwarded-For", "203.0.113.9")
	if r.Status != http.StatusAccepted {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}

	raw := e.editor("GET", "/v1/subscribers/reader@example.org", "")
	for _, want := range []string{`"confirmed_at":null`, `"unsubscribed_at":null`} {
		if !strings.Contains(raw.Body, want) {
			t.Errorf("subscriber %s lacks %s", raw.Body, want)
		}
	}
	s := e.subscriber("reader@example.org")
	if s.Email != "reader@example.org" || s.CreatedAt.Before(start) {
		t.Errorf("email, created_at = %q, %v", s.Email, s.CreatedAt)
	}
	if len(s.Subscriptions) != 1 {
		t.Fatalf("subscriptions = %+v, want one", s.Subscriptions)
	}
	if sub := s.Subscriptions[0]; sub.Newsletter != "daily" || sub.Status != "pending" || sub.SubscribedAt.Before(start) ||
		sub.ConfirmedAt != nil || sub.UnsubscribedAt != nil {
		t.Errorf("subscription = %+v, want daily pending since now", sub)
	}
	if len(s.Consent) != 1 {
		t.Fatalf("consent = %+v, want one record", s.Consent)
	}
	c := s.Consent[0]
	if c.Action != "signup" || !slices.Equal(c.Newsletters, []string{"daily"}) || c.At.Before(start) ||
		c.UserAgent != "test-agent/1.0" || c.Source != "https://news.example.org/a" {
		t.Errorf("consent = %+v", c)
	}
	if c.IP != "127.0.0.1" { // X-Forwarded-For from an untrusted client must not count
		t.Errorf("consent ip = %q, want the peer address 127.0.0.1", c.IP)
	}
}

func TestFormSignupSourceIsReferer(t *testing.T) {
	e := newEnv(t)
	e.putNewsletter("daily", "Daily")
	e.postForm("email=reader%40example.org&newsletter=daily", "Referer", "https://news.example.org/page")
	s := e.subscriber("reader@example.org")
	if len(s.Consent) != 1 || s.Consent[0].Source != "https://news.example.org/page" {
		t.Errorf("consent = %+v, want source from the Referer", s.Consent)
	}
}

func TestSubscriberAddressInPath(t *testing.T) {
	for _, addr := range []string{"a/b@example.org", "news+a/b@example.org", "a%b@example.org", "a+b@example.org"} {
		t.Run(addr, func(t *testing.T) {
			e := newEnv(t)
			e.putNewsletter("daily", "Daily")
			if r := e.postJSON(`{"email":"` + addr + `","newsletters":["daily"]}`); r.Status != http.StatusAccepted {
				t.Fatalf("signup: %d %s", r.Status, r.Body)
			}
			for _, path := range []string{url.PathEscape(addr), url.QueryEscape(addr)} {
				if s := e.subscriber(path); s.Email != addr {
					t.Errorf("GET %s: email = %q, want %q", path, s.Email, addr)
				}
			}
		})
	}
}

func TestDeleteSubscriber(t *testing.T) {
	e := newEnv(t)
	e.putNewsletter("daily", "Daily")
	e.postJSON(`{"email":"reader@example.org","newsletters":["daily"]}`)
	e.subscriber("reader@example.org")

	if r := e.editor("DELETE", "/v1/subscribers/reader@example.org", ""); r.Status != http.StatusNoContent || r.Body != "" {
		t.Fatalf("DELETE: %d %q, want 204 and no body", r.Status, r.Body)
	}
	wantJSONError(t, e.editor("GET", "/v1/subscribers/reader@example.org", ""), http.StatusNotFound, "not_found")
	keys, _ := e.rdb.Keys(context.Background(), "nl:*").Result()
	for _, k := range keys {
		if strings.HasSuffix(k, ":outbox") { // its confirmation email, blanked until a relay removes it
			if held, _ := e.rdb.LRange(context.Background(), k, 0, -1).Result(); strings.Contains(strings.Join(held, ""), "reader@") {
				t.Errorf("the outbox still holds the address: %q", held)
			}
		} else if strings.HasSuffix(k, ":dict") { // the partition's browsers, pages and newsletter lists, shared
			if h, _ := e.rdb.HGetAll(context.Background(), k).Result(); strings.Contains(fmt.Sprint(h), "reader") {
				t.Errorf("the partition's dictionary names the reader: %v", h)
			}
		} else if k != "nl:{nl}:newsletters" && !strings.HasSuffix(k, ":next") { // ids are never reused
			t.Errorf("key %s left after erasure", k)
		}
	}
}
