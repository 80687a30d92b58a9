package main

import (
	"context"
	"errors"
	"flag"
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
	var edition, access string
	cfg, fs, err := cliConfig("articles "+verb, rest, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&edition, "edition", "", "edition of the posts of a WordPress export (WXR)")
		fs.StringVar(&access, "access", kiosko.AccessFree, "access of the posts of a WordPress export: open, free or subscriber")
	})
	if err != nil {
		return err
	}
	if dir == "" && fs.NArg() == 1 {
		dir = fs.Arg(0)
	} else if dir == "" || fs.NArg() > 0 {
		return errors.New("usage: kiosko articles import DIR | kiosko articles import --edition E [--access A] EXPORT.xml")
	}
	var files []string
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		if edition == "" {
			return errors.New("articles import: a WordPress export needs --edition (WordPress has no editions)")
		}
		return importWXR(ctx, cfg, dir, edition, access, stdout, stderr)
	}
	files, err = markdownFiles(dir)
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
	var all []parsed
	var bad []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", f, err))
			continue
		}
		in, err := newsroom.ParseMarkdownFile(f, data)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %s", f, reason(err)))
			continue
		}
		all = append(all, parsed{f, in})
	}
	return saveImport(ctx, nr, c.store, all, bad, len(files), stdout, stderr)
}

// parsed is one article to import and where it came from.
type parsed struct {
	file string
	in   kiosko.ArticleInput
}

// importWXR imports the posts of a WordPress export file.
func importWXR(ctx context.Context, cfg *Config, file, edition, access string, stdout, stderr io.Writer) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("articles import: %w", err)
	}
	defer f.Close()
	posts, err := newsroom.ParseWXR(f, edition, access)
	if err != nil {
		return fmt.Errorf("articles import: %s: %v", file, err)
	}
	if len(posts) == 0 {
		return fmt.Errorf("articles import: %s holds no posts", file)
	}
	c, err := openCLI(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.store.Close()
	nr := &kiosko.Newsroom{Store: c.store, Render: bodyRenderer{}, Clock: kiosko.SystemClock{}, PublicURL: cfg.PublicURL}
	all := make([]parsed, len(posts))
	for i, p := range posts {
		all[i] = parsed{file + ": " + p.Where, p.In}
	}
	return saveImport(ctx, nr, c.store, all, nil, len(posts), stdout, stderr)
}

// saveImport checks every article first; with any bad one (bad lists
// those that did not even parse) it reports each and saves nothing.
func saveImport(ctx context.Context, nr *kiosko.Newsroom, store kiosko.Store, all []parsed, bad []string, total int, stdout, stderr io.Writer) error {
	var good []parsed
	ids := map[string]string{}
	for _, p := range all {
		err := nr.Check(ctx, p.in)
		if err == nil && ids[p.in.ID] != "" {
			err = fmt.Errorf("id %q is also the id of %s", p.in.ID, ids[p.in.ID])
		}
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %s", p.file, reason(err)))
			continue
		}
		ids[p.in.ID] = p.file
		good = append(good, p)
	}
	if len(bad) > 0 {
		for _, b := range bad {
			fmt.Fprintln(stderr, b)
		}
		return fmt.Errorf("articles import: %d of %d are bad; nothing was imported", len(bad), total)
	}
	var created, updated, same int
	for _, p := range good {
		before, _ := store.FindArticleByID(ctx, p.in.ID)
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
