package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/password"
)

// cliConfig parses an operator command's flags: its own (declare) and the
// settings every command that opens the database or sends mail takes.
func cliConfig(name string, args []string, stderr io.Writer, declare func(fs *flag.FlagSet)) (*Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("kiosko "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if declare != nil {
		declare(fs)
	}
	cfg, err := parseConfig(fs, args, "data", "database-url", "redis-url", "redis-prefix", "log-level", "smtp-addr", "smtp-user", "smtp-password", "mail-from", "public-url", "send-rate", "send-workers")
	return cfg, fs, err
}

// cli is an opened database for an operator command.
type cli struct {
	cfg   *Config
	store kiosko.Store
	plans kiosko.Plans
	now   time.Time
}

func openCLI(ctx context.Context, cfg *Config) (*cli, error) {
	store, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	catalog, err := planCatalog(ctx, cfg, store, time.Now().UTC(), slog.New(slog.DiscardHandler))
	if err != nil {
		store.Close()
		return nil, err
	}
	plans, err := catalog.Current(ctx)
	if err != nil {
		store.Close()
		return nil, err
	}
	return &cli{cfg: cfg, store: store, plans: plans, now: time.Now().UTC()}, nil
}

func (c *cli) account(ctx context.Context, email string) (*kiosko.Account, error) {
	norm, err := kiosko.NormalizeEmail(email)
	if err != nil {
		return nil, fmt.Errorf("--email %q: %s", email, kiosko.ErrorMessage(err))
	}
	a, err := c.store.FindAccountByEmail(ctx, norm)
	if kiosko.IsNotFound(err) {
		return nil, fmt.Errorf("no account with email %s", norm)
	}
	return a, err
}

func accountCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "delete" {
		return accountDeleteCommand(ctx, args[1:], stdout, stderr) // accounts.go
	}
	verb, rest, err := subcommand("account", args, "create", "grant", "revoke", "role", "delete")
	if err != nil {
		return err
	}
	var email, plan, role, name, lang string
	var seats int
	cfg, fs, err := cliConfig("account "+verb, rest, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the account's email")
		switch verb {
		case "create":
			fs.StringVar(&plan, "plan", kiosko.PlanFree, "plan: free, digital, premium, business")
			fs.StringVar(&name, "name", "", "the reader's name")
			fs.StringVar(&lang, "lang", kiosko.LangSpanish, "language of emails: es or en")
			fs.IntVar(&seats, "seats", -1, "seats, for plans bought by the seat (business)")
			fs.StringVar(&role, "role", kiosko.RoleReader, "reader, editor or admin")
		case "grant":
			fs.StringVar(&plan, "plan", "", "plan: digital, premium, business (free ends a manual plan)")
			fs.IntVar(&seats, "seats", -1, "seats, for plans bought by the seat (business; default: the plan's)")
		case "role":
			fs.StringVar(&role, "role", "", "reader, editor or admin")
		}
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("account %s: unexpected argument %q", verb, fs.Arg(0))
	}
	if email == "" {
		return fmt.Errorf("account %s: --email is required", verb)
	}
	c, err := openCLI(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.store.Close()
	switch verb {
	case "create":
		return c.createAccount(ctx, stdin, stdout, email, plan, name, lang, role, seats)
	case "grant":
		a, err := c.account(ctx, email)
		if err != nil {
			return err
		}
		sub, err := c.grant(ctx, a, plan, seats)
		if err != nil {
			return err
		}
		if sub == nil {
			fmt.Fprintf(stdout, "%s is now on the free plan\n", a.Email)
		} else {
			fmt.Fprintf(stdout, "%s now has plan %s with %d seat(s), active until %s\n", a.Email, sub.PlanCode, sub.Seats, sub.CurrentPeriodEnd.Format("2006-01-02"))
		}
		return nil
	case "revoke":
		a, err := c.account(ctx, email)
		if err != nil {
			return err
		}
		if _, err := c.grant(ctx, a, kiosko.PlanFree, -1); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s's manual subscription has ended\n", a.Email)
		return nil
	case "role":
		if role != kiosko.RoleReader && role != kiosko.RoleEditor && role != kiosko.RoleAdmin {
			return fmt.Errorf("--role must be reader, editor or admin")
		}
		a, err := c.account(ctx, email)
		if err != nil {
			return err
		}
		if err := c.store.UpdateAccountRole(ctx, a.ID, role); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s is now %s\n", a.Email, role)
		return nil
	}
	return nil
}

// createAccount reads the password from standard input (first line).
func (c *cli) createAccount(ctx context.Context, stdin io.Reader, stdout io.Writer, email, plan, name, lang, role string, seats int) error {
	if _, err := c.plans.Find(plan); err != nil {
		return fmt.Errorf("--plan %q: unknown plan (known: %s)", plan, strings.Join(planCodes(c.plans), ", "))
	}
	if !kiosko.IsLanguage(lang) {
		return fmt.Errorf("--lang must be es or en")
	}
	if role != kiosko.RoleReader && role != kiosko.RoleEditor && role != kiosko.RoleAdmin {
		return fmt.Errorf("--role must be reader, editor or admin")
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password from standard input: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return errors.New("give the password on standard input, e.g.: echo 'a long passphrase' | kiosko account create --email E --plan P")
	}
	auth := &kiosko.Auth{Store: c.store, Hasher: password.New(), Clock: kiosko.SystemClock{}, Settings: kiosko.DefaultAuthSettings(), Judge: password.Judge{}}
	a, err := auth.SignUp(ctx, kiosko.SignUpRequest{Email: email, Password: pw, Name: name, Lang: lang})
	if err != nil {
		return fmt.Errorf("account create: %s", kiosko.ErrorMessage(err))
	}
	if role != kiosko.RoleReader {
		if err := c.store.UpdateAccountRole(ctx, a.ID, role); err != nil {
			return err
		}
	}
	_ = c.store.MarkEmailVerified(ctx, a.ID, c.now)
	if plan != kiosko.PlanFree {
		if _, err := c.grant(ctx, a, plan, seats); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "created account %s (plan %s)\n", a.Email, plan)
	return nil
}

func planCodes(ps kiosko.Plans) []string {
	var out []string
	for _, p := range ps.Sorted() {
		out = append(out, p.Code)
	}
	return out
}

// grant gives an account a plan through the manual provider: a running
// manual subscription changes plan and seats, otherwise a new one starts.
// The free plan ends the manual subscription.
func (c *cli) grant(ctx context.Context, a *kiosko.Account, planCode string, seats int) (*kiosko.Subscription, error) {
	if planCode == "" {
		return nil, errors.New("--plan is required")
	}
	plan, err := c.plans.Find(planCode)
	if err != nil {
		return nil, fmt.Errorf("--plan %q: unknown plan (known: %s)", planCode, strings.Join(planCodes(c.plans), ", "))
	}
	if seats == 0 || seats < -1 {
		return nil, errors.New("--seats must be 1 or more")
	}
	if seats > 0 && !plan.SeatsPerUnit {
		if seats != plan.Seats {
			return nil, fmt.Errorf("--seats: plan %s has %d seat(s); only plans sold by the seat (business) take --seats", plan.Code, plan.Seats)
		}
	}
	if seats < 0 {
		seats = plan.Seats
	}
	subs, err := c.store.FindSubscriptionsByOwner(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	var current *kiosko.Subscription
	for _, s := range subs {
		if s.Grants(c.now) {
			current = s
			break
		}
	}
	if !plan.Paid() {
		if current == nil {
			return nil, nil
		}
		if current.Provider != kiosko.ProviderManual {
			return nil, fmt.Errorf("%s pays through %s; cancel it there", a.Email, current.Provider)
		}
		st, end := kiosko.StatusExpired, c.now
		_, err := c.store.UpdateSubscription(ctx, current.ID, kiosko.SubscriptionUpdate{Status: &st, CurrentPeriodEnd: &end})
		return nil, err
	}
	end := c.now.AddDate(1, 0, 0)
	if plan.Period == "month" {
		end = c.now.AddDate(0, 1, 0)
	}
	price := plan.PriceCents * int64(max(seats, 1))
	if !plan.SeatsPerUnit {
		price = plan.PriceCents
	}
	if current != nil {
		if current.Provider != kiosko.ProviderManual {
			return nil, fmt.Errorf("%s pays through %s; change the plan there", a.Email, current.Provider)
		}
		st := kiosko.StatusActive
		return c.store.UpdateSubscription(ctx, current.ID, kiosko.SubscriptionUpdate{PlanCode: &plan.Code, Seats: &seats, PriceCents: &price, Status: &st, CurrentPeriodEnd: &end})
	}
	sub := &kiosko.Subscription{OwnerID: a.ID, PlanCode: plan.Code, Status: kiosko.StatusActive, Seats: seats, PriceCents: price, Currency: plan.Currency,
		Provider: kiosko.ProviderManual, CurrentPeriodEnd: end, CreatedAt: c.now}
	if err := c.store.CreateSubscription(ctx, sub); err != nil {
		return nil, err
	}
	return sub, nil
}

func seatCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	verb, rest, err := subcommand("seat", args, "add", "remove")
	if err != nil {
		return err
	}
	var owner, email string
	cfg, fs, err := cliConfig("seat "+verb, rest, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&owner, "owner", "", "email of the subscription's owner")
		fs.StringVar(&email, "email", "", "email of the account taking or leaving the seat")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("seat %s: unexpected argument %q", verb, fs.Arg(0))
	}
	if owner == "" || email == "" {
		return fmt.Errorf("seat %s: --owner and --email are required", verb)
	}
	c, err := openCLI(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.store.Close()
	o, err := c.account(ctx, owner)
	if err != nil {
		return err
	}
	m, err := c.account(ctx, email)
	if err != nil {
		return err
	}
	sub, err := c.ownedSubscription(ctx, o)
	if err != nil {
		return err
	}
	switch verb {
	case "add":
		seat, err := c.store.AssignSeat(ctx, sub.ID, m.ID, c.now)
		if err != nil {
			return fmt.Errorf("seat add: %s", kiosko.ErrorMessage(err))
		}
		if err := clearOwnerWarning(ctx, c.store, sub, c.now); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s now holds seat %d of %s's %s subscription\n", m.Email, seat.Position, o.Email, sub.PlanCode)
	case "remove":
		seats, err := c.store.FindSeats(ctx, sub.ID)
		if err != nil {
			return err
		}
		for _, s := range seats {
			if s.AccountID == m.ID {
				if s.Position == 1 {
					return errors.New("seat remove: the owner's seat cannot be freed")
				}
				if err := c.store.FreeSeat(ctx, s.ID); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "%s no longer holds a seat of %s's subscription\n", m.Email, o.Email)
				return nil
			}
		}
		return fmt.Errorf("seat remove: %s holds no seat of %s's subscription", m.Email, o.Email)
	}
	return nil
}

// ownedSubscription is the running subscription an account owns.
func (c *cli) ownedSubscription(ctx context.Context, a *kiosko.Account) (*kiosko.Subscription, error) {
	subs, err := c.store.FindSubscriptionsByOwner(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	for _, s := range subs {
		if s.Grants(c.now) {
			return s, nil
		}
	}
	return nil, fmt.Errorf("%s has no running subscription", a.Email)
}

func warningCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	_, rest, err := subcommand("warning", args, "clear")
	if err != nil {
		return err
	}
	var email string
	cfg, fs, err := cliConfig("warning clear", rest, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "email of the account whose seat is under sharing warning")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 || email == "" {
		return errors.New("warning clear: --email is required")
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
	seat, _, err := c.store.FindSeatForAccount(ctx, a.ID, c.now)
	if kiosko.IsNotFound(err) {
		return fmt.Errorf("%s holds no seat", a.Email)
	} else if err != nil {
		return err
	}
	if seat.SharingWarning == nil {
		fmt.Fprintf(stdout, "%s's seat is not under sharing warning\n", a.Email)
		return nil
	}
	if err := c.store.SetSeatWarning(ctx, seat.ID, nil); err != nil {
		return err
	}
	if err := c.store.AppendLeaseEvents(ctx, []kiosko.LeaseEvent{{Kind: kiosko.EventWarningCleared, SeatID: seat.ID, AccountID: a.ID, Reason: "admin", At: c.now}}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "lifted the sharing warning of %s's seat\n", a.Email)
	return nil
}

func migrateCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, _, err := cliConfig("migrate", args, stderr, nil)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	fmt.Fprintln(stdout, "the database is up to date")
	return nil
}
