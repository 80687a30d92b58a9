package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
)

// membersCommand is `kiosko members import|export` (docs/accounts.md).
func membersCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	verb, rest, err := subcommand("members", args, "import", "export")
	if err != nil {
		return err
	}
	var format, editions, compPlan, lang string
	var skipBad bool
	cfg, fs, err := cliConfig("members "+verb, rest, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&format, "format", kiosko.MembersKiosko, "kiosko (every column kiosko keeps) or ghost (Ghost's members CSV)")
		if verb == "import" {
			fs.StringVar(&editions, "edition", "", "ghost: the newsletter(s), comma-separated, that subscribed_to_emails=true subscribes to")
			fs.StringVar(&compPlan, "comp-plan", kiosko.PlanDigital, "ghost: the plan complimentary_plan=true grants")
			fs.StringVar(&lang, "lang", kiosko.LangSpanish, "language of emails for members the file gives none (es or en)")
			fs.BoolVar(&skipBad, "skip-bad", false, "import the good rows of a file that has bad ones")
		}
	})
	if err != nil {
		return err
	}
	if format != kiosko.MembersKiosko && format != kiosko.MembersGhost {
		return fmt.Errorf("members %s: --format %q: want kiosko or ghost", verb, format)
	}
	if verb == "export" {
		if fs.NArg() > 0 {
			return fmt.Errorf("members export: unexpected argument %q (the CSV goes to standard output)", fs.Arg(0))
		}
		c, err := openCLI(ctx, cfg)
		if err != nil {
			return err
		}
		defer c.store.Close()
		n, err := kiosko.ExportMembers(ctx, c.store, stdout, format, c.now)
		if err != nil {
			return fmt.Errorf("members export: %w", err)
		}
		fmt.Fprintf(stderr, "exported %d members\n", n)
		return nil
	}
	if fs.NArg() != 1 {
		return errors.New("members import: give one file: kiosko members import [--format kiosko|ghost] FILE.csv (- reads standard input)")
	}
	if !kiosko.IsLanguage(lang) {
		return errors.New("members import: --lang must be es or en")
	}
	name := fs.Arg(0)
	in := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("members import: %w", err)
		}
		defer f.Close()
		in = f
	}
	c, err := openCLI(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.store.Close()
	var eds []string
	for _, e := range strings.Split(editions, ",") {
		if e = strings.TrimSpace(e); e != "" {
			eds = append(eds, e)
		}
	}
	start := time.Now()
	res, bad, err := kiosko.ImportMembers(ctx, c.store, in, kiosko.MemberImportOptions{Format: format, File: filepath.Base(name), Editions: eds,
		CompPlan: compPlan, SkipBad: skipBad, Plans: c.plans, Lang: lang, Now: c.now})
	var fe *kiosko.MembersFileError
	if errors.As(err, &fe) {
		return fmt.Errorf("%s\nnothing was imported: %d bad row(s); fix them, or pass --skip-bad to import the other rows", fe.Error(), len(fe.Rows))
	} else if err != nil {
		return err
	}
	for _, b := range bad {
		fmt.Fprintf(stderr, "%s:%d: %s (skipped)\n", filepath.Base(name), b.Line, b.Reason)
	}
	fmt.Fprintf(stdout, "imported %d member(s) in %s: %d new account(s), %d already there, %d plan(s) granted, %d newsletter subscription(s), %d marked unsubscribed, %d bad row(s) skipped\n",
		res.Created+res.Existing, time.Since(start).Round(time.Millisecond), res.Created, res.Existing, res.Granted, res.Subscribed, res.Unsubscribed, len(bad))
	return nil
}
