package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// apiClient calls the service's HTTP API as an editor and as a reader.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

func newAPIClient(base, token string) *apiClient {
	return &apiClient{base: base, token: token, http: &http.Client{Timeout: 30 * time.Second}}
}

func (a *apiClient) ready(ctx context.Context) bool {
	code, _, err := a.do(ctx, http.MethodGet, "/readyz", nil, false)
	return err == nil && code == http.StatusOK
}

// putNewsletter creates the bench's newsletter.
func (a *apiClient) putNewsletter(ctx context.Context) error {
	body := map[string]any{"name": "Bench Daily", "from": "Bench Daily <news@bench.example>"}
	return a.expect(ctx, http.MethodPut, "/v1/newsletters/"+benchNewsletter, body, http.StatusCreated, http.StatusOK)
}

// addArticles adds n articles published in the last hour, each with a
// summary of about summaryBytes.
func (a *apiClient) addArticles(ctx context.Context, n, summaryBytes int) error {
	now := time.Now().UTC()
	list := make([]map[string]any, n)
	for i := range list {
		list[i] = map[string]any{
			"url":          fmt.Sprintf("https://news.example/2026/bench/story-%d-%d", now.UnixNano(), i),
			"title":        fmt.Sprintf("Story %d: talks resume as the council weighs a new budget for the city", i+1),
			"summary":      filler(summaryBytes, i),
			"published_at": now.Add(-time.Duration(i+1) * time.Minute).Format(time.RFC3339),
			"author":       "Bench Reporter",
			"section":      "Politics",
			"image_url":    fmt.Sprintf("https://news.example/images/story-%d.jpg", i),
		}
	}
	return a.expect(ctx, http.MethodPost, "/v1/articles", map[string]any{"articles": list}, http.StatusOK)
}

// previewBytes returns the size of the next digest's HTML, as the preview
// renders it.
func (a *apiClient) previewBytes(ctx context.Context) (int, error) {
	code, body, err := a.do(ctx, http.MethodGet, "/v1/newsletters/"+benchNewsletter+"/digests/preview", nil, true)
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("preview: %d %s", code, body)
	}
	return len(body), err
}

// digestJSON is what the API says of a digest.
type digestJSON struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Counts struct {
		Total   int64 `json:"total"`
		Sent    int64 `json:"sent"`
		Failed  int64 `json:"failed"`
		Skipped int64 `json:"skipped"`
	} `json:"counts"`
}

func (d *digestJSON) finished() bool {
	return d.Status == "sent" || d.Status == "failed" || d.Status == "canceled"
}

// createDigest sends the next digest to every confirmed subscriber.
func (a *apiClient) createDigest(ctx context.Context) (*digestJSON, error) {
	return a.digest(ctx, http.MethodPost, "/v1/newsletters/"+benchNewsletter+"/digests",
		map[string]any{"subject": "Bench Daily: the talks resume", "intro": "Good morning. Here is what happened."})
}

func (a *apiClient) getDigest(ctx context.Context, id string) (*digestJSON, error) {
	return a.digest(ctx, http.MethodGet, "/v1/digests/"+id, nil)
}

func (a *apiClient) digest(ctx context.Context, method, path string, body any) (*digestJSON, error) {
	code, raw, err := a.do(ctx, method, path, body, true)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK && code != http.StatusAccepted {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, code, raw)
	}
	var d digestJSON
	return &d, json.Unmarshal(raw, &d)
}

// subscribe signs email up to the bench's newsletter, as a reader's form
// would, and returns the status code.
func (a *apiClient) subscribe(ctx context.Context, email string) (int, error) {
	code, _, err := a.do(ctx, http.MethodPost, "/v1/subscriptions", signupBody(email), false)
	return code, err
}

func signupBody(email string) map[string]any {
	return map[string]any{"email": email, "newsletters": []string{benchNewsletter}}
}

func (a *apiClient) expect(ctx context.Context, method, path string, body any, codes ...int) error {
	code, raw, err := a.do(ctx, method, path, body, true)
	if err != nil {
		return err
	}
	for _, c := range codes {
		if code == c {
			return nil
		}
	}
	return fmt.Errorf("%s %s: %d %s", method, path, code, raw)
}

func (a *apiClient) do(ctx context.Context, method, path string, body any, editor bool) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if editor {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// filler returns about n bytes of news-like prose, different for each seed.
func filler(n, seed int) string {
	words := strings.Fields(`the council met on tuesday to weigh a revised budget that would shift funds
		from road repairs to housing while residents crowded the hall and asked how the plan would affect
		rents schools and buses in the coming year officials said talks with the regional government
		would resume next week after a first round that ended without agreement on the key questions`)
	var b strings.Builder
	for i := seed; b.Len() < n; i++ {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[(i*7)%len(words)])
	}
	return b.String()[:n]
}
