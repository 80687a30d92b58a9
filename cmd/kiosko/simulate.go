package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kiosko/kiosko/internal/simulate"
)

const simulateUsage = `Usage:
  kiosko simulate --traces FILE.jsonl [--report] [reading settings]
      replay reading traces (one JSON object per line; "-" reads standard
      input) through the reading rule on a simulated clock and print, per
      account, warned, warned_at, contested, quiet and conflicts as JSON
      (--report: a table per persona of generated traces instead)
  kiosko simulate --generate [--seed 1] [--days 90] [--honest 10000] [--households 0] [--sharers 0]
      write generated traces (honest readers, households, sharers) as JSON lines
  kiosko simulate --sweep [--seed 1] [--days 30] [--honest 1000] [--households 200] [--sharers 200] [--plot FILE.png]
      simulate generated traces under several settings: warned honest
      readers against caught sharers, as a table and a plot

Reading settings are those of serve, as flags or KIOSKO_* variables:
--lease-ttl, --heartbeat-every, --contest-window, --presence-window, --sharing-takeovers,
--sharing-window, --sharing-quiet.
`

// simulateCommand is "kiosko simulate" (DESIGN.md, "Fairness, measured").
func simulateCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, simulateUsage, "\nFlags:\n"); fs.PrintDefaults() }
	traces := fs.String("traces", "", "trace file, one JSON object per line (- for standard input)")
	report := fs.Bool("report", false, "with --traces: print a table per persona instead of JSON")
	generate := fs.Bool("generate", false, "write generated traces to standard output")
	sweep := fs.Bool("sweep", false, "simulate generated traces under several settings")
	plot := fs.String("plot", "", "with --sweep: write the trade-off plot to this PNG file")
	seed := fs.Uint64("seed", 1, "seed of the trace generator")
	days := fs.Int("days", 0, "days of generated traces (default 90; 30 with --sweep)")
	honest := fs.Int("honest", -1, "honest single readers to generate (default 10000; 1000 with --sweep)")
	households := fs.Int("households", -1, "households to generate (default 0; 200 with --sweep)")
	sharers := fs.Int("sharers", -1, "sharing accounts to generate (default 0; 200 with --sweep)")
	workers := fs.Int("workers", 0, "accounts are simulated in this many parallel parts (default: one per CPU)")
	cfg, err := parseConfig(fs, args, "lease-ttl", "heartbeat-every", "contest-window", "presence-window", "sharing-takeovers", "sharing-window", "sharing-quiet")
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("simulate: unexpected argument %q", fs.Arg(0))
	}
	modes := 0
	for _, on := range []bool{*traces != "", *generate, *sweep} {
		if on {
			modes++
		}
	}
	if modes != 1 {
		fs.Usage()
		return errors.New("simulate: give exactly one of --traces, --generate or --sweep")
	}
	def := func(v *int, d int) int {
		if *v < 0 {
			return d
		}
		return *v
	}
	switch {
	case *generate:
		gc := simulate.GenConfig{Seed: *seed, Days: cmpOr(*days, 90), Honest: def(honest, 10000), Household: def(households, 0), Sharer: def(sharers, 0)}
		return simulate.WriteTraces(stdout, simulate.Generate(gc))
	case *sweep:
		gc := simulate.GenConfig{Seed: *seed, Days: cmpOr(*days, 30), Honest: def(honest, 1000), Household: def(households, 200), Sharer: def(sharers, 200)}
		points, err := simulate.Sweep(ctx, simulate.Generate(gc), cfg.Reading, simulate.DefaultSweep(cfg.Reading), *workers)
		if err != nil {
			return err
		}
		if err := simulate.WriteSweep(stdout, points); err != nil {
			return err
		}
		if *plot != "" {
			f, err := os.Create(*plot)
			if err != nil {
				return err
			}
			if err := simulate.PlotTradeoff(f, points); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		}
		return nil
	}

	var in io.Reader = os.Stdin
	if *traces != "-" {
		f, err := os.Open(*traces)
		if err != nil {
			return fmt.Errorf("simulate: %w", err)
		}
		defer f.Close()
		in = f
	}
	ivs, err := simulate.ParseTraces(in, func(w simulate.LineError) { fmt.Fprintf(stderr, "%s: warning: %s\n", *traces, w) })
	if err != nil {
		var pe *simulate.ParseError
		if errors.As(err, &pe) {
			for _, l := range pe.Lines {
				fmt.Fprintf(stderr, "%s:%d: %s\n", *traces, l.Line, l.Reason)
			}
			return fmt.Errorf("simulate: %d bad line(s) in %s; nothing simulated", len(pe.Lines), *traces)
		}
		return fmt.Errorf("simulate: %w", err)
	}
	start := time.Now()
	res, err := simulate.Run(ctx, ivs, simulate.Options{Settings: cfg.Reading, Workers: *workers})
	if err != nil {
		return err
	}
	warned := 0
	for _, a := range res.Accounts {
		if a.Warned {
			warned++
		}
	}
	fmt.Fprintf(stderr, "simulate: %d intervals, %d accounts, %d warned; %d reading calls in %s\n",
		len(ivs), len(res.Accounts), warned, res.Events, time.Since(start).Round(time.Millisecond))
	if *report {
		return simulate.NewReport(res).WriteMarkdown(stdout)
	}
	return res.WriteJSON(stdout)
}

func cmpOr(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}
