package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/webhook"
)

// webhookCommand is "kiosko webhook add|list|remove".
func webhookCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	verb, rest, err := subcommand("webhook", args, "add", "list", "remove")
	if err != nil {
		return err
	}
	var url, events string
	var id int64
	fs := flag.NewFlagSet("kiosko webhook "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch verb {
	case "add":
		fs.StringVar(&url, "url", "", "the endpoint's http(s) URL")
		fs.StringVar(&events, "events", "", "event types to send, comma-separated (default: every type: "+strings.Join(webhook.Types, ", ")+")")
	case "remove":
		fs.Int64Var(&id, "id", 0, "the endpoint's number, as webhook list shows it")
	}
	cfg, err := parseConfig(fs, rest, "data", "database-url", "log-level", "webhook-allow-private")
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("webhook %s: unexpected arguments %v", verb, fs.Args())
	}
	c, err := openCLI(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.store.Close()
	hooks, ok := kiosko.StoreAs[webhook.Store](c.store)
	if !ok {
		return errors.New("this database keeps no webhooks")
	}
	switch verb {
	case "add":
		if url == "" {
			return errors.New("webhook add: --url is required")
		}
		if err := (webhook.Guard{AllowPrivate: cfg.Integration.WebhookAllowPrivate}).CheckURL(ctx, url); err != nil {
			return fmt.Errorf("--url %q: %s", url, kiosko.ErrorMessage(err))
		}
		types, err := webhook.ParseEvents(events)
		if err != nil {
			return fmt.Errorf("--events: %s", kiosko.ErrorMessage(err))
		}
		e := &webhook.Endpoint{URL: url, Secret: webhook.NewSecret(), Events: types, Enabled: true, CreatedAt: c.now}
		if err := hooks.CreateWebhookEndpoint(ctx, e); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "webhook %d added: %s receives %s\n", e.ID, e.URL, eventList(e.Events))
		fmt.Fprintln(stdout, "its signing secret, shown only now (verify webhook-signature with it):")
		fmt.Fprintln(stdout, e.Secret)
		return nil
	case "remove":
		if id <= 0 {
			return errors.New("webhook remove: --id is required (see kiosko webhook list)")
		}
		if err := hooks.DeleteWebhookEndpoint(ctx, id); kiosko.IsNotFound(err) {
			return fmt.Errorf("no webhook endpoint %d (see kiosko webhook list)", id)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "webhook %d removed, with its pending messages and delivery log\n", id)
		return nil
	}
	eps, err := hooks.FindWebhookEndpoints(ctx)
	if err != nil {
		return err
	}
	if len(eps) == 0 {
		fmt.Fprintln(stdout, "no webhook endpoints (add one with kiosko webhook add --url U)")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tURL\tEVENTS\tPENDING\tFAILED\tFAILING SINCE")
	for _, e := range eps {
		ms, err := hooks.FindWebhookMessages(ctx, e.ID)
		if err != nil {
			return err
		}
		count := map[string]int{}
		for _, m := range ms {
			count[m.Status]++
		}
		state, since := "enabled", "-"
		if !e.Enabled {
			state = "disabled"
		}
		if e.FailingSince != nil {
			since = e.FailingSince.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%s\n", e.ID, state, e.URL, eventList(e.Events), count[webhook.StatusPending], count[webhook.StatusFailed], since)
	}
	return tw.Flush()
}

func eventList(types []string) string {
	if len(types) == 0 {
		return "every event type"
	}
	return strings.Join(types, ",")
}
