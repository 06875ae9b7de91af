package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"newsletter"
	"newsletter/internal/redistest"
	"strings"
	"testing"

	"newsletter/subscribers"
)

// seeder adds subscribers straight through the subscribers service's
// import, on the harness's Redis: no email goes out, so a running worker
// sends nothing for them.
type seeder struct {
	t   *testing.T
	svc *subscribers.Service
}

func (h *harness) seeder() *seeder {
	h.t.Helper()
	rdb := redistest.UniversalFor(h.t, h.redisURL)
	svc := subscribers.NewService(subscribers.NewStore(rdb), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return &seeder{t: h.t, svc: svc}
}

// add subscribes n addresses named prefix-i@example.org to nl and leaves
// them in status st; it returns the addresses.
func (s *seeder) add(prefix string, n int, st newsletter.Status, nl string) []string {
	s.t.Helper()
	addrs := make([]string, n)
	var csv strings.Builder
	csv.WriteString("email,name,status\n")
	for i := range addrs {
		addrs[i] = fmt.Sprintf("%s-%d@example.org", prefix, i)
		fmt.Fprintf(&csv, "%s,Reader %s,%s\n", addrs[i], prefix, st)
	}
	res, err := s.svc.Import(context.Background(), strings.NewReader(csv.String()), subscribers.ImportOptions{Newsletter: nl, Confirmed: true})
	if err != nil {
		s.t.Fatal(err)
	}
	if res.Imported != n || len(res.Skipped) != 0 {
		s.t.Fatalf("import of %d %s subscribers: %d imported, %d skipped", n, st, res.Imported, len(res.Skipped))
	}
	return addrs
}
