package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// service is `newsletter serve` and `newsletter worker` running as child
// processes on the bench's Redis database and the sink.
type service struct {
	serve  *child
	worker *child
	api    *apiClient
}

// startService starts the API and the worker, each logging to a file named
// after label, and waits until both are ready.
func (e *env) startService(ctx context.Context, label string) (*service, error) {
	return e.startProcesses(ctx, label, true)
}

// startProcesses starts the API and, when withWorker, the worker.
func (e *env) startProcesses(ctx context.Context, label string, withWorker bool) (*service, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	token := randomHex(16)
	vars := e.serviceEnv(addr, token)
	s := &service{api: newAPIClient("http://"+addr, token)}
	if s.serve, err = e.startChild(label+"-serve", vars, e.bin, "serve"); err != nil {
		return nil, err
	}
	if withWorker {
		if s.worker, err = e.startChild(label+"-worker", vars, e.bin, "worker"); err != nil {
			s.stop()
			return nil, err
		}
	}
	if err := s.ready(ctx, e); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w (logs in %s)", err, e.dir)
	}
	return s, nil
}

// serviceEnv is the service's configuration. The signup and confirmation
// limits are lifted: the load comes from one IP and thousands of addresses.
func (e *env) serviceEnv(addr, token string) []string {
	vars := []string{
		"NEWSLETTER_HTTP_ADDR=" + addr,
		"NEWSLETTER_BASE_URL=http://" + addr,
		"NEWSLETTER_REDIS_URL=" + e.opt.redisURL,
		"NEWSLETTER_SMTP_URL=smtp://" + e.opt.sinkSMTP + "?tls=none",
		fmt.Sprintf("NEWSLETTER_SMTP_CONNECTIONS=%d", e.opt.connections),
		fmt.Sprintf("NEWSLETTER_RECORD_EVERY=%d", e.opt.recordEvery),
		"NEWSLETTER_SECRET=" + randomHex(32),
		"NEWSLETTER_API_TOKENS=" + token,
		"NEWSLETTER_FROM=Bench <news@bench.example>",
		"NEWSLETTER_SIGNUP_RATE=" + liftedRate,
		"NEWSLETTER_CONFIRMATION_RATE=" + liftedRate,
		"NEWSLETTER_LOG_FORMAT=text",
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NEWSLETTER_") {
			vars = append(vars, kv)
		}
	}
	return vars
}

// liftedRate is the signup and confirmation limit during the bench: in
// effect none.
const liftedRate = "100000000/s"

// child is a process the bench started.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and was reaped
}

// startChild starts bin with args and vars, its output going to
// <label>.log in the work folder.
func (e *env) startChild(label string, vars []string, bin string, args ...string) (*child, error) {
	log, err := os.Create(filepath.Join(e.dir, label+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = vars, log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", label, err)
	}
	c := &child{name: label, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		log.Close()
		close(c.done)
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, and SIGKILL if the process still runs after grace.
func (c *child) stop(grace time.Duration) {
	if c == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// ready waits for /readyz and for the worker's two asynq servers (digest
// batches have one of their own) to register in Redis.
func (s *service) ready(ctx context.Context, e *env) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, _ := e.rdb.ZCard(ctx, "asynq:servers").Result()
		if (n >= 2 || s.worker == nil) && s.api.ready(ctx) {
			return nil
		}
		if err := s.exited(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return errors.New("the service did not become ready within 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// exited reports a child that is gone.
func (s *service) exited() error {
	for _, c := range []*child{s.serve, s.worker} {
		if c != nil && c.exited() {
			return fmt.Errorf("%s exited", c.name)
		}
	}
	return nil
}

// stop stops the API and the worker, each given 20 seconds to finish.
func (s *service) stop() {
	done := make(chan struct{})
	go func() { s.serve.stop(20 * time.Second); close(done) }()
	s.worker.stop(20 * time.Second)
	<-done
}

// procCPUs returns the CPU seconds of the worker and the API process.
func (s *service) procCPUs() (worker, serve float64, err error) {
	w, err1 := procCPU(s.worker.pid())
	a, err2 := procCPU(s.serve.pid())
	return w, a, errors.Join(err1, err2)
}

// freeAddr returns a loopback address with a port free just now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// waitHTTP waits until url answers 200.
func waitHTTP(ctx context.Context, url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer 200 within %v", url, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
