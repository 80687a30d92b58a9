package main

import (
	"context"
	"errors"
	"net"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/metrics"
)

// observeSettings are the settings of logs and metrics (docs/operations.md).
func observeSettings() []setting {
	return []setting{
		{"log-format", "KIOSKO_LOG_FORMAT", "text", "log lines as text (key=value) or json", false, func(c *Config, v string) error {
			if v != "text" && v != "json" {
				return errors.New("must be text or json")
			}
			c.LogFormat = v
			return nil
		}},
		{"metrics-token", "KIOSKO_METRICS_TOKEN", "", "when set, /metrics answers only with Authorization: Bearer TOKEN", true, func(c *Config, v string) error {
			c.MetricsToken = v
			return nil
		}},
	}
}

// observe makes the server's metrics, counting the reading rule's
// counters, the push hub and Redis's failures.
func (m *Main) observe(rm *kiosko.ReadingMetrics) {
	m.Metrics = metrics.New(rm)
	m.Hub = m.Metrics.Hub(m.Hub)
	if m.redis != nil {
		m.redis.AddHook(redisErrors{m.Metrics})
	}
	// Every failed statement, transaction or connection of either
	// database (readiness pings included); not found and conflicts are
	// answers, not failures.
	if db, ok := kiosko.StoreAs[interface{ OnError(func(error)) }](m.Store); ok {
		db.OnError(func(error) { m.Metrics.DatabaseErrors.Inc() })
	}
}

// redisErrors counts failed Redis commands; redis.Nil (no such key) is an
// answer, not a failure.
type redisErrors struct{ m *metrics.Metrics }

func (h redisErrors) DialHook(next goredis.DialHook) goredis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err != nil {
			h.m.RedisErrors.Inc()
		}
		return c, err
	}
}

func (h redisErrors) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		err := next(ctx, cmd)
		if err != nil && !errors.Is(err, goredis.Nil) {
			h.m.RedisErrors.Inc()
		}
		return err
	}
}

func (h redisErrors) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		err := next(ctx, cmds)
		if err != nil && !errors.Is(err, goredis.Nil) {
			h.m.RedisErrors.Inc()
		}
		return err
	}
}
