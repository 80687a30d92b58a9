package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/entitlement"
)

// entitlementCommand is "kiosko entitlement rotate": a new signing key,
// published at once, signing once every verifier's cached key set has it.
func entitlementCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	verb, rest, err := subcommand("entitlement", args, "rotate")
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("kiosko entitlement "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := parseConfig(fs, rest, "data", "database-url", "log-level")
	if err != nil {
		return err
	}
	c, err := openCLI(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.store.Close()
	keys, ok := kiosko.StoreAs[entitlement.KeyStore](c.store)
	if !ok {
		return errors.New("this database keeps no signing keys")
	}
	k, err := entitlement.Rotate(ctx, keys, c.now)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "new entitlement key %s is published now and signs from %s; the old key signs until then and stays published for %s more\n",
		k.KID, c.now.Add(entitlement.PublishAhead).Format(time.RFC3339), entitlement.KeepRetired)
	return nil
}
