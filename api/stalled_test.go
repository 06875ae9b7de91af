package api_test

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/api"
)

// TestStalledBodyAnswers408: a client that sends its headers and part of
// its body, then stops, gets 408 request_timeout when the server's read
// deadline passes, and nothing is logged at error level (issue 17, item 7;
// it was a 500 and an ERROR).
func TestStalledBodyAnswers408(t *testing.T) {
	var logs syncBuffer
	e, _ := newEnvWith(t, &logs, func(*api.Config, *redis.Client) {})
	e.putNewsletter("daily", "Daily")
	e.srv.Config.ReadTimeout = 300 * time.Millisecond // before any connection of this test

	for _, ct := range []string{"application/json", "application/x-www-form-urlencoded"} {
		conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		body := `{"email":"slow@exa`
		if ct != "application/json" {
			body = "email=slow%40exa"
		}
		req := "POST /v1/subscriptions HTTP/1.1\r\nHost: news.example.test\r\nContent-Type: " + ct +
			"\r\nAccept: application/json\r\nContent-Length: 200\r\n\r\n" + body
		if _, err := conn.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: no answer to a stalled body: %v", ct, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("%s: a stalled body = %d, want 408", ct, resp.StatusCode)
		}
	}
	if out := logs.String(); strings.Contains(out, "level=ERROR") {
		t.Errorf("a stalled client was logged as an error:\n%s", out)
	}
}
