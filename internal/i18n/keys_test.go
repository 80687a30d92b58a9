package i18n

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"text/template/parse"

	"github.com/kiosko/kiosko"
)

// TestEveryUsedKeyIsInBothCatalogs reads the module's Go code (tests
// excepted) and its templates, finds every catalog key they name, and
// fails for each one that a language lacks, saying where it is used.
//
// A string counts as a key only where the code treats it as one, so that
// event types, file names or metric names that happen to contain a dot
// are never mistaken for keys:
//   - the value of a struct field named Key or ending in Key
//     (&kiosko.Error{Key: "error.x"}, TitleKey: "web.x");
//   - an argument passed where a function of the module declares a string
//     parameter named key or ending in Key (Catalog.T, kiosko.Errorf,
//     kiosko.FieldError, the stores' notFound, a handler's donePage…);
//   - in a template, a string given to T or t ({{$.T "web.x"}},
//     {{t .Lang "newsletter.x"}}).
//
// and it must look like one: AREA.rest, AREA being the name of a catalog
// file (locale/AREA.LANG.json). Keys built at run time ("web.plan." +
// code) are not seen; keep such families small and test them where they
// are built.
func TestEveryUsedKeyIsInBothCatalogs(t *testing.T) {
	c := Default()
	areas := catalogAreas(t, c)
	root := moduleRoot(t)
	uses, err := findKeyUses(root, areas)
	if err != nil {
		t.Fatal(err)
	}
	if len(uses) < 50 {
		t.Fatalf("found only %d keys in use under %s: the scan is broken", len(uses), root)
	}
	keys := make([]string, 0, len(uses))
	for k := range uses {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		where := uses[k]
		if len(where) > 3 {
			where = append(where[:3:3], fmt.Sprintf("and %d more", len(uses[k])-3))
		}
		for _, lang := range kiosko.Languages {
			if !c.Has(lang, k) {
				t.Errorf("key %q is missing in %s (add it to %s); used at %s", k, lang, fileFor(c, lang, k), strings.Join(where, ", "))
			}
		}
	}
}

// TestKeyScanFindsEveryForm guards the scanner itself: each form of use
// is found, and look-alikes are not.
func TestKeyScanFindsEveryForm(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.go", `package a

type Error struct{ Key, Message string }
type Label struct{ TitleKey string; Key string }

func T(lang, key string, args ...any) string { return key }
func Errorf(code, key, format string, args ...any) *Error { return nil }
func limit(key string) {}
var errCSV = func(key, msg string) error { return nil }
type Event struct{ Type string }

var (
	_ = &Error{Key: "error.in_a_field", Message: "error.not_a_key_here"}
	_ = Label{TitleKey: "web.title_key"}
	_ = T("es", "web.by_t", 1)
	_ = Errorf("conflict", "error.by_errorf", "x %d", 1)
	_ = errCSV("billing.by_func_var", "msg")
	_ = Event{Type: "billing.checkout_completed"}
	_ = Label{Key: "redis:lease:1"}
	_ = "web.just_a_string"
	_ = T("es", "unknown_area.key")
)

func f() { limit("newsletter.by_key_param") }

func done(key string) string { return T("es", key+".title") + T("es", key+".text") }

var _ = done("newsletter.a_prefix_not_a_key")
`)
	write("a_test.go", `package a
var _ = T("es", "web.only_in_a_test")
`)
	write("templates/page.html", `{{define "page"}}<p>{{$.T "web.tmpl_dollar"}} {{.T "web.tmpl_dot" .N}} {{t .Lang "newsletter.tmpl_t"}}</p>
{{template "web.not_a_key"}} {{printf "%s" "web.printf"}}{{end}}`)
	uses, err := findKeyUses(dir, map[string]bool{"error": true, "web": true, "billing": true, "newsletter": true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"billing.by_func_var", "error.by_errorf", "error.in_a_field", "newsletter.by_key_param", "newsletter.tmpl_t",
		"web.by_t", "web.title_key", "web.tmpl_dollar", "web.tmpl_dot"}
	var got []string
	for k := range uses {
		got = append(got, k)
	}
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("keys found:\n  %s\nwant:\n  %s", strings.Join(got, " "), strings.Join(want, " "))
	}
	if w := uses["error.by_errorf"]; len(w) != 1 || w[0] != "a.go:16" {
		t.Errorf("error.by_errorf used at %v, want [a.go:16]", w)
	}
}

// catalogAreas are the first parts of the catalogs' keys ("error" in
// "error.conflict") and the AREA parts of their file names.
func catalogAreas(t *testing.T, c *Catalog) map[string]bool {
	t.Helper()
	names, err := fs.Glob(files, "locale/*.json")
	if err != nil {
		t.Fatal(err)
	}
	areas := map[string]bool{}
	for _, n := range names {
		areas[strings.SplitN(path.Base(n), ".", 2)[0]] = true
	}
	for _, lang := range kiosko.Languages {
		for _, k := range c.Keys(lang) {
			areas[area(k)] = true
		}
	}
	if len(names) == 0 || len(areas) == 0 {
		t.Fatal("no catalog files")
	}
	return areas
}

// fileFor is the catalog file where key belongs in lang: the one holding
// other keys of its area, or AREA.LANG.json.
func fileFor(c *Catalog, lang, key string) string {
	count := map[string]int{}
	for _, k := range c.Keys(lang) {
		if area(k) == area(key) {
			count[c.origin[lang+":"+k]]++
		}
	}
	best := ""
	for f := range count { // errors.en.json for error.x
		if strings.HasPrefix(path.Base(f), area(key)) && (best == "" || f < best) {
			best = f
		}
	}
	for f, n := range count {
		if best != "" && strings.HasPrefix(path.Base(best), area(key)) {
			break
		}
		if best == "" || n > count[best] || (n == count[best] && f < best) {
			best = f
		}
	}
	if best == "" {
		return "internal/i18n/locale/" + area(key) + "." + lang + ".json"
	}
	return "internal/i18n/" + best
}

func area(key string) string { return strings.SplitN(key, ".", 2)[0] }

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

var keyShape = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)

// findKeyUses returns, for each key named under root, where it is used
// (file:line, relative to root).
func findKeyUses(root string, areas map[string]bool) (map[string][]string, error) {
	uses := map[string][]string{}
	add := func(key, where string) {
		if keyShape.MatchString(key) && areas[area(key)] {
			uses[key] = append(uses[key], where)
		}
	}
	fset := token.NewFileSet()
	var goFiles []*ast.File
	var templates []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go"):
			f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			goFiles = append(goFiles, f)
		case strings.HasSuffix(name, ".html") && filepath.Base(filepath.Dir(p)) == "templates":
			templates = append(templates, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rel := func(p string) string {
		if r, err := filepath.Rel(root, p); err == nil {
			return filepath.ToSlash(r)
		}
		return p
	}

	// Functions with a key parameter: name → argument positions. Methods
	// and functions are matched by name alone, across packages.
	keyParams := map[string]map[int]bool{}
	noteParams := func(name string, ft *ast.FuncType, body *ast.BlockStmt) {
		i := 0
		for _, field := range ft.Params.List {
			isString := false
			if id, ok := field.Type.(*ast.Ident); ok && id.Name == "string" {
				isString = true
			}
			names := field.Names
			if len(names) == 0 {
				i++
				continue
			}
			for _, n := range names {
				if isString && (n.Name == "key" || strings.HasSuffix(n.Name, "Key")) && !onlyPrefix(body, n.Name) {
					if keyParams[name] == nil {
						keyParams[name] = map[int]bool{}
					}
					keyParams[name][i] = true
				}
				i++
			}
		}
	}
	for _, f := range goFiles {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				noteParams(n.Name.Name, n.Type, n.Body)
			case *ast.ValueSpec: // var errX = func(key, msg string) error {…}
				for i, v := range n.Values {
					if fl, ok := v.(*ast.FuncLit); ok && i < len(n.Names) {
						noteParams(n.Names[i].Name, fl.Type, fl.Body)
					}
				}
			case *ast.KeyValueExpr: // "t": func(lang, key string, …) in a FuncMap
				if fl, ok := n.Value.(*ast.FuncLit); ok {
					if s, ok := stringLit(n.Key); ok {
						noteParams(s, fl.Type, fl.Body)
					}
				}
			}
			return true
		})
	}

	for _, f := range goFiles {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.KeyValueExpr:
				if id, ok := n.Key.(*ast.Ident); ok && (id.Name == "Key" || strings.HasSuffix(id.Name, "Key")) {
					if s, ok := stringLit(n.Value); ok {
						pos := fset.Position(n.Value.Pos())
						add(s, fmt.Sprintf("%s:%d", rel(pos.Filename), pos.Line))
					}
				}
			case *ast.CallExpr:
				var name string
				switch fn := n.Fun.(type) {
				case *ast.Ident:
					name = fn.Name
				case *ast.SelectorExpr:
					name = fn.Sel.Name
				}
				for i := range keyParams[name] {
					if i < len(n.Args) {
						if s, ok := stringLit(n.Args[i]); ok {
							pos := fset.Position(n.Args[i].Pos())
							add(s, fmt.Sprintf("%s:%d", rel(pos.Filename), pos.Line))
						}
					}
				}
			}
			return true
		})
	}

	for _, p := range templates {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		tr := parse.New(p)
		tr.Mode = parse.SkipFuncCheck | parse.ParseComments
		treeSet := map[string]*parse.Tree{}
		if _, err := tr.Parse(string(data), "", "", treeSet); err != nil {
			return nil, fmt.Errorf("%s: %w", rel(p), err)
		}
		for _, tree := range treeSet {
			walkTemplate(tree.Root, func(cmd *parse.CommandNode) {
				if len(cmd.Args) < 2 || !isTranslator(cmd.Args[0]) {
					return
				}
				for _, a := range cmd.Args[1:] {
					if s, ok := a.(*parse.StringNode); ok {
						line := 1 + strings.Count(string(data[:min(int(s.Pos), len(data))]), "\n")
						add(s.Text, fmt.Sprintf("%s:%d", rel(p), line))
					}
				}
			})
		}
	}
	for k := range uses {
		sort.Strings(uses[k])
	}
	return uses, nil
}

// onlyPrefix reports whether the function body uses the parameter name
// only as the start of a concatenation (key+".title"): it is then the
// prefix of keys, not a key.
func onlyPrefix(body *ast.BlockStmt, name string) bool {
	if body == nil {
		return false
	}
	uses, prefixes := 0, 0
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			if id, ok := n.X.(*ast.Ident); ok && id.Name == name && n.Op == token.ADD {
				prefixes++
			}
		case *ast.Ident:
			if n.Name == name {
				uses++
			}
		}
		return true
	})
	return uses > 0 && uses == prefixes
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// isTranslator reports whether a template command starts with T or t:
// the function t, or a field or method .T, $.T, .P.T.
func isTranslator(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.IdentifierNode:
		return n.Ident == "t" || n.Ident == "T"
	case *parse.FieldNode:
		return n.Ident[len(n.Ident)-1] == "T"
	case *parse.VariableNode:
		return len(n.Ident) > 1 && n.Ident[len(n.Ident)-1] == "T"
	case *parse.ChainNode:
		return len(n.Field) > 0 && n.Field[len(n.Field)-1] == "T"
	}
	return false
}

// walkTemplate calls fn on every command of a template tree.
func walkTemplate(n parse.Node, fn func(*parse.CommandNode)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkTemplate(c, fn)
		}
	case *parse.ActionNode:
		walkTemplate(n.Pipe, fn)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walkTemplate(c, fn)
		}
	case *parse.CommandNode:
		fn(n)
		for _, a := range n.Args {
			walkTemplate(a, fn)
		}
	case *parse.IfNode:
		walkTemplate(n.Pipe, fn)
		walkTemplate(n.List, fn)
		walkTemplate(n.ElseList, fn)
	case *parse.RangeNode:
		walkTemplate(n.Pipe, fn)
		walkTemplate(n.List, fn)
		walkTemplate(n.ElseList, fn)
	case *parse.WithNode:
		walkTemplate(n.Pipe, fn)
		walkTemplate(n.List, fn)
		walkTemplate(n.ElseList, fn)
	case *parse.TemplateNode:
		walkTemplate(n.Pipe, fn)
	}
}
