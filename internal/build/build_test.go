package build

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
)

// TestStartRetriesAndClose checks the engine's life cycle without starting
// BuildKit: a failed start returns its error every time it is tried (it is
// not remembered), nothing starts at New, and after Close every request
// is refused.
func TestStartRetriesAndClose(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Root under a regular file cannot be created.
	b := New(Config{Root: filepath.Join(file, "buildkit"), ExecRoot: filepath.Join(file, "exec")})
	if b.eng != nil {
		t.Fatal("New started the engine")
	}
	for i := range 2 {
		if _, err := b.Client(context.Background()); err == nil {
			t.Fatalf("attempt %d: start under a file succeeded", i)
		}
		if b.eng != nil {
			t.Fatalf("attempt %d: a failed start left an engine", i)
		}
	}
	// a client of /grpc is told why, not refused the upgrade
	here, there := net.Pipe()
	served := make(chan error, 1)
	go func() {
		served <- b.ServeBuildKit(context.Background(), func() (net.Conn, error) { return there, nil })
	}()
	c, err := client.New(context.Background(), "", client.WithContextDialer(func(context.Context, string) (net.Conn, error) { return here, nil }))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.ListWorkers(ctx); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a call to a builder that cannot start: %v, want the start's error", err)
	}
	c.Close()
	if err := <-served; err != nil {
		t.Errorf("serving the failed start: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close of a never-started builder: %v", err)
	}
	if err := b.ServeBuildKit(context.Background(), func() (net.Conn, error) { panic("upgraded after Close") }); !errors.Is(err, errClosed) {
		t.Errorf("after Close: %v, want %v", err, errClosed)
	}
}
