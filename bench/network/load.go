//go:build linux

package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-project/berth/bench/internal/benchutil"
)

// serverSource is the HTTP server the containers run: a fixed small body on
// :8080, so the figures measure the network path and not the server.
const serverSource = `package main

import "net/http"

func main() {
	body := []byte("ok\n")
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	})
	panic(http.ListenAndServe(":8080", nil))
}
`

// buildServerImage compiles the server statically in work and returns a
// tar holding just the binary, as /srv.
func buildServerImage(work string) (string, error) {
	src := filepath.Join(work, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module srv\n\ngo 1.22\n"), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(serverSource), 0o644); err != nil {
		return "", err
	}
	binPath := filepath.Join(work, "srv")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", binPath, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the server: %v: %s", err, out)
	}
	tarPath := filepath.Join(work, "srv.tar")
	if err := benchutil.WriteSingleFileTar(tarPath, binPath, "srv"); err != nil {
		return "", err
	}
	return tarPath, nil
}

// throughput runs clients keep-alive HTTP clients against url for d and
// returns completed requests per second; any failed request is an error.
func throughput(url string, clients int, d time.Duration) (float64, error) {
	var done, failed atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
			for time.Now().Before(deadline) {
				resp, err := c.Get(url)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if n := failed.Load(); n > 0 {
		return 0, fmt.Errorf("GET %s: %d requests failed, first: %v", url, n, firstErr.Load())
	}
	return float64(done.Load()) / elapsed.Seconds(), nil
}

// waitHTTP polls url until it answers 200 or timeout passes.
func waitHTTP(url string, timeout time.Duration) error {
	c := http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("GET %s: %w", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
