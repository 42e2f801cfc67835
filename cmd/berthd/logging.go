package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/sirupsen/logrus"
)

// routeLogrus sends what libraries log through logrus (containerd/log, which
// go-archive uses while applying layers) to berthd's slog logger, so that
// one --log-level and one format govern every line berthd writes.
func routeLogrus(l *slog.Logger, level slog.Level) {
	std := logrus.StandardLogger()
	std.SetOutput(io.Discard)
	std.SetLevel(logrusLevel(level))
	std.ReplaceHooks(logrus.LevelHooks{})
	std.AddHook(slogHook{l})
}

// slogHook re-logs a logrus entry through slog, with its fields as attributes.
type slogHook struct{ l *slog.Logger }

func (slogHook) Levels() []logrus.Level { return logrus.AllLevels }

func (h slogHook) Fire(e *logrus.Entry) error {
	attrs := make([]slog.Attr, 0, len(e.Data))
	for k, v := range e.Data {
		attrs = append(attrs, slog.Any(k, v))
	}
	ctx := e.Context
	if ctx == nil {
		ctx = context.Background()
	}
	h.l.LogAttrs(ctx, slogLevel(e.Level), e.Message, attrs...)
	return nil
}

func slogLevel(l logrus.Level) slog.Level {
	switch {
	case l <= logrus.ErrorLevel: // panic, fatal, error
		return slog.LevelError
	case l == logrus.WarnLevel:
		return slog.LevelWarn
	case l == logrus.InfoLevel:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

func logrusLevel(l slog.Level) logrus.Level {
	switch {
	case l >= slog.LevelError:
		return logrus.ErrorLevel
	case l >= slog.LevelWarn:
		return logrus.WarnLevel
	case l >= slog.LevelInfo:
		return logrus.InfoLevel
	}
	return logrus.DebugLevel // trace makes BuildKit log a stack per cache ref
}
