package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/geoip"
	"github.com/kiosko/kiosko/internal/httpx"
	"github.com/kiosko/kiosko/internal/i18n"
	"github.com/kiosko/kiosko/internal/mail"
	"github.com/kiosko/kiosko/internal/password"
	"github.com/kiosko/kiosko/internal/web"
)

// newAccounts wires the reader's own-data service (verification, email
// change, export, receipts, deletion) and the device list's country and
// last seen: devices keep the country of their address (never the address)
// and their last seen moves with every request, written in one batch a
// minute by a worker that stops with workers. The console reaches the
// service as Main.Deps.Accounts.
func newAccounts(m *Main, workers context.Context) *kiosko.Accounts {
	m.Auth.Country = geoip.Country
	m.Auth.Seen = &kiosko.DeviceActivity{Store: m.Store, Log: m.Log, Pause: 10 * time.Millisecond}
	m.wg.Add(1)
	go func() { defer m.wg.Done(); m.Auth.Seen.Run(workers) }()
	return &kiosko.Accounts{Store: m.Store, Auth: m.Auth, Billing: m.Deps.Billing, Mail: web.NewAccountDataMail(m.Deps),
		Clock: m.Clock, Settings: kiosko.DefaultAccountSettings(), Log: m.Log}
}

// accountDeleteCommand is `kiosko account delete --email E`: an admin
// erases an account as the reader can at /account/delete (no password:
// whoever runs the command already holds the database). What the reader
// pays at Stripe ends at the period's end, members are told by email, the
// reader gets a last email. A running server forgets the account's
// sessions within its session cache's TTL.
func accountDeleteCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kiosko account delete", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var email string
	fs.StringVar(&email, "email", "", "the account's email")
	cfg, err := parseConfig(fs, args, "data", "database-url", "log-level", "smtp-addr", "smtp-user", "smtp-password", "mail-from", "public-url",
		"stripe-key", "stripe-webhook-secret", "stripe-api-url")
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("account delete: unexpected argument %q", fs.Arg(0))
	}
	if email == "" {
		return errors.New("account delete: --email is required")
	}
	c, err := openCLI(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.store.Close()
	a, err := c.account(ctx, email)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	mcfg := mail.Config{Addr: cfg.SMTPAddr, User: cfg.SMTPUser, Password: cfg.SMTPPassword, From: cfg.MailFrom, Dir: mailDir(cfg), Log: log}
	if err := mcfg.Validate(); err != nil {
		return err
	}
	d := &httpx.Deps{Store: c.store, Plans: c.plans, Catalog: i18n.Default(), Clock: kiosko.SystemClock{}, Mailer: mail.New(mcfg),
		PublicURL: strings.TrimRight(cfg.BaseURL(), "/"), Log: log}
	d.Auth = &kiosko.Auth{Store: c.store, Hasher: password.New(), Clock: d.Clock, Settings: kiosko.DefaultAuthSettings(), Log: log}
	if d.Billing, err = newBilling(cfg, d); err != nil {
		return err
	}
	svc := &kiosko.Accounts{Store: c.store, Auth: d.Auth, Billing: d.Billing, Mail: web.NewAccountDataMail(d), Clock: d.Clock,
		Settings: kiosko.DefaultAccountSettings(), Log: log}
	rep, err := svc.Delete(ctx, a, 0)
	if err != nil {
		return fmt.Errorf("account delete: %s", kiosko.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "deleted account %d (%s): %d paid subscription(s) end at the period's end, %d member(s) told their seat ended\n",
		a.ID, a.Email, len(rep.Canceled), len(rep.Members))
	return nil
}
