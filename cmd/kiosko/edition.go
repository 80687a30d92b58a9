package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/kiosko/kiosko"
)

// editionCommand is "kiosko edition add|list": editions are rows, each
// with its front page (/CODE/), feed, news sitemap and newsletter, in its
// language; a running server serves a new one at once.
func editionCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	verb, rest, err := subcommand("edition", args, "add", "list")
	if err != nil {
		return err
	}
	var e kiosko.Edition
	cfg, fs, err := cliConfig("edition "+verb, rest, stderr, func(fs *flag.FlagSet) {
		if verb == "add" {
			fs.StringVar(&e.Code, "code", "", "short code, also the edition's address (/CODE/)")
			fs.StringVar(&e.Name, "name", "", "the edition's name, e.g. \"Edición México\"")
			fs.StringVar(&e.Lang, "lang", "", "language of its pages and newsletter: es or en")
			fs.StringVar(&e.Timezone, "tz", "", "IANA time zone of its dates and newsletter (default: UTC)")
			fs.StringVar(&e.NewsletterDay, "newsletter-day", "", "weekday its newsletter goes out (default: KIOSKO_NEWSLETTER_DAY)")
		}
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("edition %s: unexpected argument %q", verb, fs.Arg(0))
	}
	if verb == "add" {
		if err := kiosko.ValidateEdition(&e); err != nil {
			return fmt.Errorf("edition add: --%s: %s", kiosko.ErrorField(err), kiosko.ErrorMessage(err))
		}
	}
	c, err := openCLI(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.store.Close()
	switch verb {
	case "add":
		if err := c.store.CreateEdition(ctx, &e); kiosko.ErrorCode(err) == kiosko.ECONFLICT {
			return fmt.Errorf("edition add: edition %q already exists", e.Code)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "edition %s (%s, %s) added: its front page is /%s/, its feed /%s/feed.xml\n", e.Code, e.Name, e.Lang, e.Code, e.Code)
	case "list":
		eds, err := c.store.FindEditions(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CODE\tNAME\tLANG\tTIME ZONE\tNEWSLETTER DAY")
		for _, e := range eds {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Code, e.Name, e.Lang, or(e.Timezone, "UTC"), or(e.NewsletterDay, "(server's)"))
		}
		return tw.Flush()
	}
	return nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
