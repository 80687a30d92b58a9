package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/kiosko/kiosko"
)

// planCatalog makes the plans table the catalogue in force. The first
// start on a database imports plans.json from the data directory (or the
// default plans when there is none); from then on the file is ignored and
// plans are edited in the console, and each start says so.
func planCatalog(ctx context.Context, cfg *Config, store kiosko.Store, now time.Time, log *slog.Logger) (*kiosko.PlanCatalog, error) {
	path := filepath.Join(cfg.Data, "plans.json")
	_, statErr := os.Stat(path)
	hasFile := statErr == nil
	plans, err := loadPlans(cfg, false)
	if err != nil {
		// A broken file matters only while it would still be imported.
		if done, ferr := store.FindPlans(ctx); ferr != nil || len(done) == 0 {
			return nil, err
		}
	}
	imported := false
	if err == nil {
		if imported, err = store.ImportPlans(ctx, plans, now); err != nil {
			return nil, fmt.Errorf("import plans: %w", err)
		}
	}
	switch {
	case imported && hasFile:
		log.Info("plans imported into the database from plans.json; the file is ignored from now on: edit plans at /admin/plans", "file", path, "plans", len(plans))
	case imported:
		log.Info("plans: the default plans were stored in the database; edit them at /admin/plans", "plans", len(plans))
	case hasFile:
		log.Info("plans come from the database; plans.json was imported once and is ignored", "file", path)
	}
	registered := cfg.Meter.Registered
	c := &kiosko.PlanCatalog{Store: store, Log: log, Adjust: func(ps kiosko.Plans) {
		// The registered meter is a setting of its own; the free plan follows it.
		if free := ps[kiosko.PlanFree]; free != nil {
			free.Meter = registered
		}
	}}
	if ps, err := c.Current(ctx); err != nil {
		return nil, err
	} else if ps[kiosko.PlanFree] == nil {
		return nil, errors.New("plans: the database has no free plan")
	}
	return c, nil
}
