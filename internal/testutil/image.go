package testutil

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// BusyboxImage is the reference LoadBusybox imports the test image as.
const BusyboxImage = "busybox:latest"

// BusyboxTar returns the path of the busybox rootfs tar kept in the
// daemon's directory, building it on first use.
func (d *Daemon) BusyboxTar(t testing.TB) string {
	t.Helper()
	path, err := d.BusyboxTarPath()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// BusyboxTarPath is BusyboxTar for callers without a testing.TB.
func (d *Daemon) BusyboxTarPath() (string, error) {
	path := filepath.Join(d.Root, "busybox-rootfs.tar")
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := buildBusyboxTar(path + ".tmp"); err != nil {
		return "", err
	}
	return path, os.Rename(path+".tmp", path)
}

// LoadBusybox imports the busybox rootfs as busybox:latest, once per daemon
// (a restarted daemon keeps it).
func (d *Daemon) LoadBusybox(t testing.TB) {
	t.Helper()
	d.loadMu.Lock()
	defer d.loadMu.Unlock()
	d.mu.Lock()
	loaded := d.busybox
	d.mu.Unlock()
	if loaded {
		return
	}
	if err := d.ImportBusybox(d.BusyboxTar(t)); err != nil {
		t.Fatalf("import the busybox test image: %v", err)
	}
	d.mu.Lock()
	d.busybox = true
	d.mu.Unlock()
}

// ImportBusybox imports the rootfs tar at tarPath (see WriteBusyboxRootfs) as
// busybox:latest unless the daemon already has that image.
func (d *Daemon) ImportBusybox(tarPath string) error {
	return d.importImage(tarPath, BusyboxImage)
}

// importImage imports a rootfs tar as ref through the API and checks it is
// then inspectable.
func (d *Daemon) importImage(tarPath, ref string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := client.New(client.WithHost(d.Host))
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.ImageInspect(ctx, ref); err == nil {
		return nil
	}
	f, err := os.Open(tarPath)
	if err != nil {
		return err
	}
	defer f.Close()
	body, err := c.ImageImport(ctx, client.ImageImportSource{Source: f, SourceName: "-"}, ref, client.ImageImportOptions{})
	if err != nil {
		return err
	}
	defer body.Close()
	if err := jsonStreamError(body); err != nil {
		return err
	}
	_, err = c.ImageInspect(ctx, ref)
	return err
}

// jsonStreamError reads a docker JSON message stream and returns the first
// error it reports.
func jsonStreamError(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var m struct {
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
			return errors.New(m.ErrorDetail.Message)
		}
		if strings.TrimSpace(m.Error) != "" {
			return errors.New(m.Error)
		}
	}
}
