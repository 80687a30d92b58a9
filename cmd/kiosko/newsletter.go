package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/i18n"
	"github.com/kiosko/kiosko/internal/mail"
	"github.com/kiosko/kiosko/internal/newsletter"
	"github.com/schollz/progressbar/v3"
)

// newsletterCommand runs "kiosko newsletter send|import".
func newsletterCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	verb, rest, err := subcommand("newsletter", args, "send", "import")
	if err != nil {
		return err
	}
	switch verb {
	case "send":
		return newsletterSend(ctx, rest, stdout, stderr)
	default:
		return newsletterImport(ctx, rest, stdout, stderr)
	}
}

// newNewsletter wires the newsletter service for serve and the CLI. The
// caller closes the returned BulkMailer (n.Bulk) when done.
func newNewsletter(cfg *Config, store kiosko.Store, log *slog.Logger) (*kiosko.Newsletter, error) {
	mcfg := mail.Config{Addr: cfg.SMTPAddr, User: cfg.SMTPUser, Password: cfg.SMTPPassword, From: cfg.MailFrom, Dir: mailDir(cfg), Log: log}
	if err := mcfg.Validate(); err != nil {
		return nil, err
	}
	workers := max(cfg.SendWorkers, 1)
	bulk, err := mail.NewBulk(mcfg, mail.BulkConfig{Connections: workers, Rate: float64(cfg.SendRate)})
	if err != nil {
		return nil, err
	}
	render, err := newsletter.NewRenderer(i18n.Default())
	if err != nil {
		bulk.Close()
		return nil, err
	}
	st := kiosko.DefaultNewsletterSettings()
	st.Concurrency = workers
	if cfg.NewsletterTZ != "" {
		if st.Location, err = time.LoadLocation(cfg.NewsletterTZ); err != nil {
			bulk.Close()
			return nil, fmt.Errorf("KIOSKO_NEWSLETTER_TZ: %w", err)
		}
	}
	return &kiosko.Newsletter{Store: store, Mailer: mail.New(mcfg), Bulk: bulk, Render: render, Clock: kiosko.SystemClock{},
		PublicURL: strings.TrimRight(cfg.BaseURL(), "/"), Settings: st, Log: log}, nil
}

// newsletterScheduler returns the weekly schedule serve runs, or nil when
// KIOSKO_NEWSLETTER_DAY is off.
func newsletterScheduler(cfg *Config, n *kiosko.Newsletter, log *slog.Logger) (*kiosko.Scheduler, error) {
	if cfg.NewsletterDay == "" || cfg.NewsletterDay == "off" {
		return nil, nil
	}
	day, err := kiosko.ParseWeekday(cfg.NewsletterDay)
	if err != nil {
		return nil, fmt.Errorf("KIOSKO_NEWSLETTER_DAY: %w", err)
	}
	return &kiosko.Scheduler{Newsletter: n, Log: log,
		Schedule: kiosko.NewsletterSchedule{Day: day, Hour: cfg.NewsletterHour, Location: n.Settings.Location}}, nil
}

func newsletterSend(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var edition string
	var resendUnknown, quiet bool
	cfg, fs, err := cliConfig("newsletter send", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&edition, "edition", "", "edition whose issue to send (required)")
		fs.BoolVar(&resendUnknown, "resend-unknown", false, "also resend messages an earlier run was interrupted while committing (may duplicate)")
		fs.BoolVar(&quiet, "quiet", false, "no progress bar")
	})
	if err != nil {
		return err
	}
	if edition == "" || fs.NArg() > 0 {
		return errors.New("usage: kiosko newsletter send --edition E [--resend-unknown]")
	}
	log := newLogger(cfg, stderr)
	c, err := openCLI(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.store.Close()
	n, err := newNewsletter(cfg, c.store, log)
	if err != nil {
		return err
	}
	defer n.Bulk.Close()

	var bar *progressbar.ProgressBar
	progress := func(p kiosko.SendProgress) {
		if quiet {
			return
		}
		if bar == nil {
			bar = progressbar.NewOptions(p.Total, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("sending"),
				progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("msg"),
				progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSetPredictTime(true), progressbar.OptionFullWidth())
		}
		_ = bar.Set(p.Done)
	}
	rep, err := n.SendIssue(ctx, edition, kiosko.SendOptions{Progress: progress, ResendUnknown: resendUnknown})
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(stderr)
	}
	if rep != nil {
		c := rep.Counts
		fmt.Fprintf(stdout, "issue %s of edition %s (%d articles): %d sent now, %d bounced, %d failed, %d skipped; in all %d of %d delivered\n",
			rep.Issue.Week, rep.Issue.Edition, len(rep.Issue.ArticleIDs), rep.Sent, rep.Bounced, rep.Failed, rep.Skipped, c.Sent, c.Total())
		if rep.Interrupted > 0 || c.Unknown > 0 {
			fmt.Fprintf(stdout, "%d message(s) were being committed when an earlier run stopped: the mail server may or may not have them, so they were not resent (use --resend-unknown to send them again)\n", c.Unknown)
		}
		if rep.Resent > 0 {
			fmt.Fprintf(stdout, "%d interrupted message(s) were sent again as asked\n", rep.Resent)
		}
		if c.Pending > 0 {
			fmt.Fprintf(stdout, "%d still to send: run the command again\n", c.Pending)
		}
	}
	if err != nil {
		return fmt.Errorf("newsletter send: %s", cliError(err))
	}
	return nil
}

func newsletterImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var edition string
	var quiet bool
	cfg, fs, err := cliConfig("newsletter import", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&edition, "edition", "", "edition whose newsletter the list joins (required)")
		fs.BoolVar(&quiet, "quiet", false, "no progress bar")
	})
	if err != nil {
		return err
	}
	if edition == "" || fs.NArg() != 1 {
		return errors.New("usage: kiosko newsletter import --edition E FILE.csv (columns email,name with a header row)")
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("newsletter import: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("newsletter import: %w", err)
	}
	log := newLogger(cfg, stderr)
	c, err := openCLI(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.store.Close()
	n, err := newNewsletter(cfg, c.store, log)
	if err != nil {
		return err
	}
	defer n.Bulk.Close()

	var in io.Reader = f
	var readBar, writeBar *progressbar.ProgressBar
	if !quiet {
		readBar = progressbar.NewOptions64(info.Size(), progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("checking "+path),
			progressbar.OptionShowBytes(true), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionFullWidth())
		r := progressbar.NewReader(f, readBar)
		in = &r
	}
	progress := func(done, total int) {
		if quiet {
			return
		}
		if writeBar == nil {
			_ = readBar.Finish()
			fmt.Fprintln(stderr)
			writeBar = progressbar.NewOptions(total, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("importing"),
				progressbar.OptionShowCount(), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionFullWidth())
		}
		_ = writeBar.Set(done)
	}
	rep, err := n.Import(ctx, edition, in, progress)
	if writeBar != nil {
		_ = writeBar.Finish()
		fmt.Fprintln(stderr)
	} else if readBar != nil {
		_ = readBar.Finish()
		fmt.Fprintln(stderr)
	}
	if rep != nil && len(rep.Refused) > 0 {
		fmt.Fprintf(stdout, "refused %d row(s):\n", len(rep.Refused))
		for _, r := range rep.Refused {
			if r.Email != "" {
				fmt.Fprintf(stdout, "  line %d: %s: %s\n", r.Line, r.Email, r.Reason)
			} else {
				fmt.Fprintf(stdout, "  line %d: %s\n", r.Line, r.Reason)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("newsletter import: %s: nothing was imported: %s", path, cliError(err))
	}
	fmt.Fprintf(stdout, "imported into %s: %d added, %d confirmed (were pending), %d already subscribed, %d refused, of %d rows\n",
		edition, rep.Added, rep.Confirmed, rep.Unchanged, len(rep.Refused), rep.Rows)
	if rep.Unsubscribed > 0 {
		fmt.Fprintf(stdout, "%d row(s) with subscribed_to_emails=false recorded as unsubscribed: they are never sent the newsletter\n", rep.Unsubscribed)
	}
	return nil
}

// cliError says an error for the operator: a user error's message, else
// the whole chain.
func cliError(err error) string {
	var ke *kiosko.Error
	if errors.As(err, &ke) {
		return ke.Message
	}
	return err.Error()
}
