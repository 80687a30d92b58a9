package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kiosko/kiosko"
)

// apikeyCommand is "kiosko apikey create|list|revoke": keys for servers
// (a CMS pushing articles, a backend managing webhooks). create prints the
// key once, alone on the last line, so a script can take it with tail -1.
func apikeyCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	verb, rest, err := subcommand("apikey", args, "create", "list", "revoke")
	if err != nil {
		return err
	}
	// "revoke ID" takes its id before or after the flags.
	var idArg string
	if verb == "revoke" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		idArg, rest = rest[0], rest[1:]
	}
	var name, scopes string
	cfg, fs, err := cliConfig("apikey "+verb, rest, stderr, func(fs *flag.FlagSet) {
		if verb == "create" {
			fs.StringVar(&name, "name", "", "what the key is for, e.g. \"CMS\"")
			fs.StringVar(&scopes, "scopes", "", "comma-separated: newsroom, webhooks, admin")
		}
	})
	if err != nil {
		return err
	}
	var id int64
	if verb == "revoke" && idArg == "" && fs.NArg() == 1 {
		idArg = fs.Arg(0)
	}
	switch {
	case verb == "revoke" && idArg != "" && fs.NArg() <= 1:
		if id, err = strconv.ParseInt(idArg, 10, 64); err != nil || id <= 0 {
			return fmt.Errorf("apikey revoke: %q is not a key id (see kiosko apikey list)", idArg)
		}
	case verb == "revoke":
		return fmt.Errorf("apikey revoke: give the key's id (see kiosko apikey list)")
	case fs.NArg() > 0:
		return fmt.Errorf("apikey %s: unexpected argument %q", verb, fs.Arg(0))
	}
	c, err := openCLI(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.store.Close()
	switch verb {
	case "create":
		k, secret, err := kiosko.NewAPIKey(name, strings.Split(scopes, ","), c.now)
		if err != nil {
			return fmt.Errorf("apikey create: %s", kiosko.ErrorMessage(err))
		}
		if err := c.store.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "API key %d %q with scopes %s. It is shown only now; keep it secret:\n%s\n", k.ID, k.Name, strings.Join(k.Scopes, ","), secret)
	case "list":
		keys, err := c.store.FindAPIKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tKEY\tSCOPES\tCREATED\tLAST USED\tSTATE")
		for _, k := range keys {
			state := "active"
			if k.Revoked() {
				state = "revoked " + k.RevokedAt.Format(time.DateOnly)
			}
			used := "never"
			if k.LastUsedAt != nil {
				used = k.LastUsedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s…\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, strings.Join(k.Scopes, ","), k.CreatedAt.Format(time.DateOnly), used, state)
		}
		return tw.Flush()
	case "revoke":
		if err := c.store.RevokeAPIKey(ctx, id, c.now); kiosko.IsNotFound(err) {
			return fmt.Errorf("apikey revoke: no key with id %d", id)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "API key %d revoked; calls made with it now answer 401\n", id)
	}
	return nil
}
