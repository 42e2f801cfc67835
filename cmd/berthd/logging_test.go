package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
)

func TestRouteLogrus(t *testing.T) {
	var buf bytes.Buffer
	routeLogrus(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})), slog.LevelWarn)
	t.Cleanup(func() { logrus.StandardLogger().ReplaceHooks(logrus.LevelHooks{}) })

	logrus.WithField("path", "/x").Warn("cannot add file")
	logrus.Info("below the level")
	out := buf.String()
	if !strings.Contains(out, `level=WARN msg="cannot add file" path=/x`) {
		t.Errorf("warning not routed to slog: %q", out)
	}
	if strings.Contains(out, "below the level") {
		t.Errorf("an info line passed a warn level: %q", out)
	}
}
