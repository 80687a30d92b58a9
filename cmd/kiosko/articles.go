package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/newsroom"
)

// articlesCommand is "kiosko articles import DIR": every *.md file of DIR
// (and its subdirectories) is one article, Markdown with YAML front
// matter. Every file is checked first; if any is bad, each bad one is
// reported as "FILE: reason" and nothing at all is imported. Importing
// the same directory again changes nothing.
func articlesCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	verb, rest, err := subcommand("articles", args, "import")
	if err != nil {
		return err
	}
	// The directory may come before the flags or after them.
	var dir string
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		dir, rest = rest[0], rest[1:]
	}
	cfg, fs, err := cliConfig("articles "+verb, rest, stderr, nil)
	if err != nil {
		return err
	}
	if dir == "" && fs.NArg() == 1 {
		dir = fs.Arg(0)
	} else if dir == "" || fs.NArg() > 0 {
		return errors.New("usage: kiosko articles import DIR")
	}
	files, err := markdownFiles(dir)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("articles import: no .md files in %s", dir)
	}
	c, err := openCLI(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.store.Close()
	nr := &kiosko.Newsroom{Store: c.store, Render: bodyRenderer{}, Clock: kiosko.SystemClock{}, PublicURL: cfg.PublicURL}
	type parsed struct {
		file string
		in   kiosko.ArticleInput
	}
	var good []parsed
	var bad []string
	ids := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", f, err))
			continue
		}
		in, err := newsroom.ParseMarkdownFile(f, data)
		if err == nil {
			err = nr.Check(ctx, in)
		}
		if err == nil && ids[in.ID] != "" {
			err = fmt.Errorf("id %q is also the id of %s", in.ID, ids[in.ID])
		}
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %s", f, reason(err)))
			continue
		}
		ids[in.ID] = f
		good = append(good, parsed{f, in})
	}
	if len(bad) > 0 {
		for _, b := range bad {
			fmt.Fprintln(stderr, b)
		}
		return fmt.Errorf("articles import: %d of %d files are bad; nothing was imported", len(bad), len(files))
	}
	var created, updated, same int
	for _, p := range good {
		before, _ := c.store.FindArticleByID(ctx, p.in.ID)
		a, isNew, err := nr.Save(ctx, p.in, "import:"+filepath.Base(p.file))
		if err != nil {
			return fmt.Errorf("articles import: %s: %s (the files before it were imported)", p.file, reason(err))
		}
		switch {
		case isNew:
			created++
		case before != nil && before.Revision == a.Revision:
			same++
		default:
			updated++
		}
	}
	fmt.Fprintf(stdout, "%d articles: %d new, %d updated, %d unchanged\n", len(good), created, updated, same)
	return nil
}

// reason is err as an operator reads it: the field and its message.
func reason(err error) string {
	var errs kiosko.ArticleErrors
	if errors.As(err, &errs) {
		parts := make([]string, len(errs))
		for i, fe := range errs {
			parts[i] = fe.Field + ": " + fe.Message
		}
		return strings.Join(parts, "; ")
	}
	var ke *kiosko.Error
	if errors.As(err, &ke) {
		return ke.Message
	}
	return err.Error()
}

// markdownFiles lists the .md files under dir, sorted.
func markdownFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.EqualFold(filepath.Ext(path), ".md") {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("articles import: %w", err)
	}
	sort.Strings(out)
	return out, nil
}
