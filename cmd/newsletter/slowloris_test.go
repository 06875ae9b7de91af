package main

import (
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// headerTimeout is the HTTP server's ReadHeaderTimeout.
const headerTimeout = 5 * time.Second

// slowClient opens a connection to addr and sends a request's header one
// byte a second, until the server closes the connection or stop closes. It
// returns how long after it connected the server cut it off (0 if it did
// not).
func slowClient(t *testing.T, addr string, stop <-chan struct{}) time.Duration {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Error(err)
		return 0
	}
	defer conn.Close()
	start := time.Now()
	closed := make(chan time.Duration, 1)
	go func() {
		io.Copy(io.Discard, conn) // returns when the server closes
		closed <- time.Since(start)
	}()
	header := []byte("GET /healthz HTTP/1.1\r\nHost: news.example.test\r\nUser-Agent: slow\r\nX-Padding: " +
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for _, b := range header {
		if _, err := conn.Write([]byte{b}); err != nil {
			break // cut off
		}
		select {
		case took := <-closed:
			return took
		case <-stop:
			return 0
		case <-tick.C:
		}
	}
	select {
	case took := <-closed:
		return took
	case <-stop:
		return 0
	}
}

func TestSlowlorisIsCutOff(t *testing.T) {
	t.Parallel()
	h := mustServeOnly(t)
	const slowClients = 20
	stop := make(chan struct{})
	var wg sync.WaitGroup
	cut := make([]time.Duration, slowClients)
	for i := range slowClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cut[i] = slowClient(t, h.main.Addr(), stop)
		}()
	}
	// Meanwhile other clients are served at once.
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(headerTimeout + 2*time.Second)
	served := 0
	for time.Now().Before(deadline) {
		start := time.Now()
		resp, err := client.Get(h.url + "/healthz")
		if err != nil {
			t.Fatalf("GET /healthz while slow clients hang on: %v", err)
		}
		resp.Body.Close()
		if took := time.Since(start); resp.StatusCode != http.StatusOK || took > 500*time.Millisecond {
			t.Fatalf("GET /healthz = %d in %s while slow clients hang on, want 200 at once", resp.StatusCode, took)
		}
		served++
		time.Sleep(250 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	for i, took := range cut {
		if took == 0 || took > headerTimeout+2*time.Second {
			t.Fatalf("slow client %d was not cut off within %s (cut after %s)", i, headerTimeout+2*time.Second, took)
		}
		if took < headerTimeout-time.Second {
			t.Fatalf("slow client %d was cut off after %s, before the header timeout: was its request refused?", i, took)
		}
	}
	t.Logf("%d slow clients cut off after %s to %s; %d requests served meanwhile", slowClients, minOf(cut), maxOf(cut), served)
}

func minOf(ds []time.Duration) time.Duration {
	m := ds[0]
	for _, d := range ds {
		m = min(m, d)
	}
	return m
}

func maxOf(ds []time.Duration) time.Duration {
	m := ds[0]
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}
