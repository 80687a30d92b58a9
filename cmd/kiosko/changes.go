package main

import (
	"context"
	"path/filepath"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/inmem"
	kredis "github.com/kiosko/kiosko/internal/redis"
)

// changeFile is where processes on one data directory without Redis (the
// command line next to a server) tell each other what changed.
func changeFile(cfg *Config) string { return filepath.Join(cfg.Data, "changes") }

// changePoll is how often a server without Redis reads the change file.
const changePoll = 100 * time.Millisecond

// openStore opens the database through a kiosko.NotifyingStore, so every
// write that changes what servers cache reaches them (cache.go). A command
// publishes through Redis when KIOSKO_REDIS_URL is set, else to the data
// directory's change file; serve replaces that with its own feed.
func openStore(ctx context.Context, cfg *Config) (kiosko.Store, error) {
	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := sealSecrets(ctx, cfg, db); err != nil { // secrets.go
		db.Close()
		return nil, err
	}
	var feed kiosko.ChangeFeed = inmem.ChangeFile{Path: changeFile(cfg)}
	if cfg.RedisURL != "" {
		if c, err := kredis.NewClient(cfg.RedisURL); err == nil {
			feed = kredis.NewChangePublisher(c, cfg.RedisPrefix)
		}
	}
	return &kiosko.NotifyingStore{Store: db, Changes: feed}, nil
}

// startChanges gives the server its change feed: Redis pub/sub shared by
// every node when Redis is set, else this process plus the change file. It
// makes Auth and Reading forget what the feed says changed, and lets them
// cache sessions and seats for long while the feed is live.
func (m *Main) startChanges(workers context.Context) {
	var feed kiosko.ChangeFeed
	var listen func(fn func(kiosko.Change))
	if m.redis != nil {
		f := kredis.NewChangeFeed(m.redis, m.Config.RedisPrefix)
		m.closers = append(m.closers, f.Close)
		feed, listen = f, f.Listen
	} else {
		f := inmem.NewChangeFeed(changeFile(m.Config))
		m.wg.Add(1)
		go func() { defer m.wg.Done(); f.Watch(workers, changePoll) }()
		feed, listen = f, f.Listen
	}
	listen(m.Auth.Forget)
	listen(m.Reading.Forget)
	// Published content and plans are kept in memory too, forgotten as the
	// feed says they changed, where the feed hears every writer: Redis, or
	// SQLite (this server and the command line on its data directory).
	// Servers sharing PostgreSQL without Redis read them on every use.
	if m.redis != nil || m.Config.DatabaseURL == "" {
		m.Content = &kiosko.ContentCache{Store: m.Store, Changes: feed}
		listen(m.Content.Forget)
		m.Plans.Changes = feed
		listen(m.Plans.Forget)
	}
	if ns, ok := m.Store.(*kiosko.NotifyingStore); ok {
		if c, ok := ns.Changes.(interface{ Close() error }); ok {
			_ = c.Close()
		}
		ns.Changes, ns.Log = feed, m.Log
	}
	m.Auth.Changes, m.Reading.Changes = feed, feed
	m.closers = append(m.closers, m.flushTouches)
}

// flushTouches writes the sessions' queued touches before the store
// closes (closers run last first).
func (m *Main) flushTouches() error {
	m.Auth.FlushTouches(context.Background())
	return nil
}
