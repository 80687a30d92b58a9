// Command kiosko is the one binary of kiosko: the web site and API
// (serve), and the operator's commands (migrate, account, seat, warning,
// newsletter, simulate, bench).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `kiosko — subscriptions, paywall and fair account sharing for newspapers

Usage:
  kiosko serve [--addr 127.0.0.1:8080] [--data ./kiosko-data] [--seed-demo=false]
  kiosko migrate [--data DIR]                         apply database migrations and exit
  kiosko account create --email E --plan P            password read from standard input
  kiosko account grant --email E --plan P [--seats N] give an account a plan (manual provider)
  kiosko account delete --email E                     erase an account and its data (docs/accounts.md)
  kiosko members import [--format kiosko|ghost] FILE.csv   bring members in (Ghost's members CSV too)
  kiosko members export [--format kiosko|ghost]      write every member as CSV to standard output
  kiosko account revoke --email E                     end an account's manual subscription
  kiosko account role --email E --role R              reader, editor or admin
  kiosko seat add --owner E --email F                 put account F on a free seat of E's plan
  kiosko seat remove --owner E --email F              free F's seat in E's subscription
  kiosko warning clear --email E                      lift the sharing warning of E's seat
  kiosko newsletter import --edition E FILE.csv       import confirmed subscribers (email,name)
  kiosko newsletter send --edition E                  send this week's issue to whoever lacks it
  kiosko simulate --traces FILE.jsonl                 replay reading traces through the reading rule
  kiosko migrate-data --from sqlite:PATH --to postgres://...   copy a whole installation
  kiosko apikey create --name N --scopes S,...       a key for a server (newsroom, webhooks, admin)
  kiosko apikey list | revoke ID                     the keys, or end one
  kiosko edition add --code C --name N --lang es|en [--tz ZONE] [--newsletter-day D]
  kiosko edition list                                 the editions
  kiosko articles import DIR                          Markdown files with YAML front matter
  kiosko bench [--duration 10s] [--connections 64]    measure the reading check (BENCHMARKS.md)
  kiosko webhook add --url U [--events t,...]         send events to U (prints the whsec_ secret last)
  kiosko webhook list | remove --id N                 the webhook endpoints, with what waits for each
  kiosko entitlement rotate                           a new entitlement signing key, rolled over without downtime

Every command takes --data and the database settings (KIOSKO_DATA,
KIOSKO_DATABASE_URL); "kiosko serve --help" lists every setting.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // the usage was asked for and printed
		}
		fmt.Fprintln(os.Stderr, "kiosko:", err)
		os.Exit(2)
	}
}

// run dispatches a subcommand.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serveCommand(ctx, rest, stderr)
	case "migrate":
		return migrateCommand(ctx, rest, stdout, stderr)
	case "account":
		return accountCommand(ctx, rest, stdin, stdout, stderr)
	case "seat":
		return seatCommand(ctx, rest, stdout, stderr)
	case "warning":
		return warningCommand(ctx, rest, stdout, stderr)
	case "newsletter":
		return newsletterCommand(ctx, rest, stdout, stderr)
	case "members":
		return membersCommand(ctx, rest, stdin, stdout, stderr) // members.go
	case "simulate":
		return simulateCommand(ctx, rest, stdout, stderr)
	case "migrate-data":
		return migrateDataCommand(ctx, rest, stdout, stderr)
	case "bench":
		return benchCommand(ctx, rest, stdout, stderr)
	case "apikey":
		return apikeyCommand(ctx, rest, stdout, stderr)
	case "edition":
		return editionCommand(ctx, rest, stdout, stderr)
	case "articles":
		return articlesCommand(ctx, rest, stdout, stderr)
	case "webhook":
		return webhookCommand(ctx, rest, stdout, stderr)
	case "entitlement":
		return entitlementCommand(ctx, rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// subcommand splits "account create ..." into its verb and arguments.
func subcommand(name string, args []string, verbs ...string) (string, []string, error) {
	if len(args) == 0 {
		return "", nil, fmt.Errorf("%s: say what to do: %v", name, verbs)
	}
	for _, v := range verbs {
		if args[0] == v {
			return v, args[1:], nil
		}
	}
	return "", nil, fmt.Errorf("%s: unknown action %q (want one of %v)", name, args[0], verbs)
}
