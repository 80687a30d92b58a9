package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/kiosko/kiosko/internal/postgres"
	"github.com/kiosko/kiosko/internal/sqlite"
)

// migrateDataCommand copies a whole SQLite installation into an empty
// PostgreSQL database: every table, ids kept, identity sequences moved past
// the copied ids. It runs in one PostgreSQL transaction and commits only
// when every table has the same number of rows and the same SHA-256 of its
// rows on both sides, so a failed or mismatched copy leaves the target as
// empty as it found it. It refuses a target that holds any row.
//
// kiosko must not be running on the source meanwhile (the copy reads one
// consistent snapshot of it, but later writes would be lost).
func migrateDataCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var from, to string
	cfg, fs, err := cliConfig("migrate-data", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&from, "from", "", "the installation to copy, sqlite:PATH (default: kiosko.db in --data)")
		fs.StringVar(&to, "to", "", "the empty PostgreSQL database to fill, postgres://… (default: KIOSKO_DATABASE_URL)")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("migrate-data: unexpected argument %q", fs.Arg(0))
	}
	if from == "" {
		from = "sqlite:" + filepath.Join(cfg.Data, "kiosko.db")
	}
	if to == "" {
		to = cfg.DatabaseURL
	}
	path, ok := strings.CutPrefix(from, "sqlite:")
	if !ok || path == "" {
		return fmt.Errorf("migrate-data: --from must be sqlite:PATH, got %q", from)
	}
	if !strings.HasPrefix(to, "postgres://") && !strings.HasPrefix(to, "postgresql://") {
		return fmt.Errorf("migrate-data: --to must be a postgres:// URL, got %q", redactURL(to))
	}
	fmt.Fprintf(stdout, "copying %s into %s\n", path, redactURL(to))
	rep, err := migrateData(ctx, path, to)
	if rep != nil {
		rep.print(stdout)
	}
	if err != nil {
		return fmt.Errorf("migrate-data: %w", err)
	}
	return nil
}

// dataReport is what migrate-data did, table by table.
type dataReport struct {
	tables  []tableReport
	elapsed time.Duration
	done    bool // committed
}

type tableReport struct {
	name             string
	srcRows, dstRows int64
	srcHash, dstHash string // SHA-256, hex
	verified         bool
}

func (t tableReport) ok() bool {
	return t.verified && t.srcRows == t.dstRows && t.srcHash == t.dstHash
}

func (r *dataReport) print(w io.Writer) {
	if len(r.tables) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "table\tsqlite rows\tpostgres rows\tsha-256 (sqlite)\tsha-256 (postgres)\t\t")
	var rows int64
	for _, t := range r.tables {
		status := "ok"
		switch {
		case !t.verified:
			status = "not checked"
		case !t.ok():
			status = "MISMATCH"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t\n", t.name, t.srcRows, t.dstRows, short(t.srcHash), short(t.dstHash), status)
		rows += t.srcRows
	}
	tw.Flush()
	if r.done {
		fmt.Fprintf(w, "copied %d rows in %d tables in %s; row counts and checksums match\n", rows, len(r.tables), r.elapsed.Round(time.Millisecond))
	} else {
		fmt.Fprintln(w, "nothing was written to the target")
	}
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	return h
}

// migrateData copies the SQLite database at path into the PostgreSQL
// database at pgURL. The report is non-nil once tables were compared.
func migrateData(ctx context.Context, path, pgURL string) (*dataReport, error) {
	start := time.Now()
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	// Opening the store brings an older installation's schema up to this
	// binary's, which is the schema the PostgreSQL side has.
	src, err := sqlite.Open(path)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	src.Close()
	raw, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	defer raw.Close()
	sconn, err := raw.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	defer sconn.Close()
	// One read transaction: every table is read from the same snapshot.
	if _, err := sconn.ExecContext(ctx, "BEGIN"); err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	defer sconn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")

	dst, err := postgres.Open(ctx, pgURL)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	defer dst.Close()
	tx, err := dst.Pool().Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// The copied counters already count the copied rows: the insights
	// triggers (migration 0010) stand aside for this transaction.
	if _, err := tx.Exec(ctx, `SET LOCAL kiosko.copying = 'on'`); err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}

	plan, err := planCopy(ctx, sconn, tx)
	if err != nil {
		return nil, err
	}
	rep := &dataReport{}
	for _, t := range plan {
		rep.tables = append(rep.tables, tableReport{name: t.name})
	}
	for _, t := range plan {
		if err := copyTable(ctx, sconn, tx, t); err != nil {
			return rep, fmt.Errorf("copy %s: %w", t.name, err)
		}
	}
	mismatch := false
	for i, t := range plan {
		tr := &rep.tables[i]
		if tr.srcRows, tr.srcHash, err = checksum(ctx, sqliteRows(sconn), t, false); err != nil {
			return rep, fmt.Errorf("checksum %s (sqlite): %w", t.name, err)
		}
		if tr.dstRows, tr.dstHash, err = checksum(ctx, pgRows(tx), t, true); err != nil {
			return rep, fmt.Errorf("checksum %s (postgres): %w", t.name, err)
		}
		tr.verified = true
		mismatch = mismatch || !tr.ok()
	}
	if mismatch {
		return rep, errors.New("the copy does not match the source; rolled back, the target is still empty")
	}
	if err := tx.Commit(ctx); err != nil {
		return rep, fmt.Errorf("commit: %w", err)
	}
	rep.done, rep.elapsed = true, time.Since(start)
	return rep, nil
}

// tablePlan is how one table is copied and compared.
type tablePlan struct {
	name     string
	columns  []string          // the source's, in its order; copied and compared
	types    map[string]string // PostgreSQL data_type by column
	key      []string          // primary key: the order rows are compared in
	identity []string          // identity columns among columns: sequences to move
}

// planCopy checks the two schemas hold the same tables and columns and
// that the target is empty, and orders the tables so every table comes
// after those it references.
func planCopy(ctx context.Context, sconn *sql.Conn, tx pgx.Tx) ([]tablePlan, error) {
	srcTables, err := sqliteList(ctx, sconn, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("source tables: %w", err)
	}
	dstTables, err := postgres.Tables(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("target tables: %w", err)
	}
	var full []string
	for _, t := range dstTables {
		var has bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+pgx.Identifier{t}.Sanitize()+`)`).Scan(&has); err != nil {
			return nil, fmt.Errorf("target %s: %w", t, err)
		}
		if has {
			full = append(full, t)
		}
	}
	if len(full) > 0 {
		return nil, fmt.Errorf("the target database is not empty (rows in %s); migrate-data only fills an empty database", strings.Join(full, ", "))
	}
	if onlySrc, onlyDst := diff(srcTables, dstTables); len(onlySrc)+len(onlyDst) > 0 {
		return nil, fmt.Errorf("the schemas differ: tables only in sqlite %v, only in postgres %v; is this kiosko older than the installation?", onlySrc, onlyDst)
	}

	var plan []tablePlan
	for _, t := range srcTables {
		p := tablePlan{name: t, types: map[string]string{}}
		if p.columns, err = sqliteList(ctx, sconn, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, t); err != nil {
			return nil, fmt.Errorf("source %s columns: %w", t, err)
		}
		rows, err := tx.Query(ctx, `SELECT column_name, data_type, is_identity = 'YES', coalesce(identity_generation, ''),
				column_default IS NOT NULL OR is_nullable = 'YES' OR is_identity = 'YES'
			FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, t)
		if err != nil {
			return nil, fmt.Errorf("target %s columns: %w", t, err)
		}
		type column struct {
			name, typ, generation string
			identity, optional    bool
		}
		cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (column, error) {
			var c column
			return c, r.Scan(&c.name, &c.typ, &c.identity, &c.generation, &c.optional)
		})
		if err != nil {
			return nil, fmt.Errorf("target %s columns: %w", t, err)
		}
		for _, c := range cols {
			inSource := slices.Contains(p.columns, c.name)
			switch {
			case inSource && c.generation == "ALWAYS":
				return nil, fmt.Errorf("target column %s.%s is GENERATED ALWAYS and cannot take copied values", t, c.name)
			case !inSource && !c.optional:
				return nil, fmt.Errorf("the schemas differ: %s.%s is only in postgres and has no default", t, c.name)
			case inSource && c.identity:
				p.identity = append(p.identity, c.name)
			}
			p.types[c.name] = c.typ
		}
		for _, c := range p.columns {
			if p.types[c] == "" {
				return nil, fmt.Errorf("the schemas differ: %s.%s is only in sqlite", t, c)
			}
		}
		rows, err = tx.Query(ctx, `SELECT a.attname FROM pg_index i
			JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
			WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)`, pgx.Identifier{t}.Sanitize())
		if err != nil {
			return nil, fmt.Errorf("target %s key: %w", t, err)
		}
		if p.key, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return nil, fmt.Errorf("target %s key: %w", t, err)
		}
		if len(p.key) == 0 || slices.ContainsFunc(p.key, func(k string) bool { return !slices.Contains(p.columns, k) }) {
			p.key = p.columns // no usable key: every column orders the rows
		}
		plan = append(plan, p)
	}

	parents := map[string][]string{}
	rows, err := tx.Query(ctx, `SELECT DISTINCT cl.relname, ref.relname FROM pg_constraint c
		JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_class ref ON ref.oid = c.confrelid
		JOIN pg_namespace n ON n.oid = cl.relnamespace
		WHERE c.contype = 'f' AND n.nspname = current_schema() AND c.conrelid <> c.confrelid`)
	if err != nil {
		return nil, fmt.Errorf("target references: %w", err)
	}
	for rows.Next() {
		var child, parent string
		if err := rows.Scan(&child, &parent); err != nil {
			rows.Close()
			return nil, err
		}
		parents[child] = append(parents[child], parent)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("target references: %w", err)
	}
	return parentsFirst(plan, parents)
}

// parentsFirst orders tables so each comes after the tables it references,
// by name among equals.
func parentsFirst(plan []tablePlan, parents map[string][]string) ([]tablePlan, error) {
	byName := map[string]tablePlan{}
	for _, p := range plan {
		byName[p.name] = p
	}
	var out []tablePlan
	state := map[string]int{} // 1: visiting, 2: done
	var visit func(name string) error
	visit = func(name string) error {
		switch state[name] {
		case 1:
			return fmt.Errorf("tables reference each other in a cycle through %s", name)
		case 2:
			return nil
		}
		state[name] = 1
		ps := slices.Clone(parents[name])
		slices.Sort(ps)
		for _, p := range ps {
			if err := visit(p); err != nil {
				return err
			}
		}
		state[name] = 2
		if p, ok := byName[name]; ok {
			out = append(out, p)
		}
		return nil
	}
	names := make([]string, 0, len(plan))
	for _, p := range plan {
		names = append(names, p.name)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// copyTable streams a table's rows from SQLite into PostgreSQL with COPY,
// in rowid order (which is the order SQLite-side ordering like the
// metered reads' relies on), then moves identity sequences past the ids.
func copyTable(ctx context.Context, sconn *sql.Conn, tx pgx.Tx, t tablePlan) error {
	rows, err := sconn.QueryContext(ctx, `SELECT `+quoteList(t.columns)+` FROM `+quote(t.name)+` ORDER BY rowid`)
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]any, len(t.columns))
	ptrs := make([]any, len(t.columns))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var row int64
	_, err = tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.columns, pgx.CopyFromFunc(func() ([]any, error) {
		if !rows.Next() {
			return nil, rows.Err()
		}
		row++
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out := make([]any, len(vals))
		for i, v := range vals {
			c, err := convert(t.types[t.columns[i]], v)
			if err != nil {
				return nil, fmt.Errorf("row %d, column %s: %w", row, t.columns[i], err)
			}
			out[i] = c
		}
		return out, nil
	}))
	if err != nil {
		return err
	}
	for _, c := range t.identity {
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), coalesce(max(`+pgx.Identifier{c}.Sanitize()+`), 0) + 1, false) FROM `+pgx.Identifier{t.name}.Sanitize(),
			pgx.Identifier{t.name}.Sanitize(), c); err != nil {
			return fmt.Errorf("sequence of %s: %w", c, err)
		}
	}
	return nil
}

// convert turns a value read from SQLite (or PostgreSQL) into what the
// PostgreSQL column of type typ takes, refusing anything that would not
// round-trip exactly.
func convert(typ string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case "bigint", "integer", "smallint":
		switch x := v.(type) {
		case int64:
			return x, nil
		case int32:
			return int64(x), nil
		case int16:
			return int64(x), nil
		}
	case "boolean":
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			if x == 0 || x == 1 {
				return x == 1, nil
			}
		}
	case "text", "character varying":
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case []byte:
			s = string(x)
		default:
			return nil, fmt.Errorf("a %T where %s is wanted", v, typ)
		}
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			return nil, errors.New("text that is not valid UTF-8 (or holds a NUL), which PostgreSQL refuses")
		}
		return s, nil
	case "bytea":
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	default:
		return nil, fmt.Errorf("column type %s is not supported by migrate-data", typ)
	}
	return nil, fmt.Errorf("a %T (%v) where %s is wanted", v, v, typ)
}

// rowSource runs a query and calls fn with each row's values.
type rowSource func(ctx context.Context, query string, fn func(vals []any) error) error

func sqliteRows(conn *sql.Conn) rowSource {
	return func(ctx context.Context, query string, fn func([]any) error) error {
		rows, err := conn.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			if err := fn(vals); err != nil {
				return err
			}
		}
		return rows.Err()
	}
}

func pgRows(tx pgx.Tx) rowSource {
	return func(ctx context.Context, query string, fn func([]any) error) error {
		rows, err := tx.Query(ctx, query)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				return err
			}
			if err := fn(vals); err != nil {
				return err
			}
		}
		return rows.Err()
	}
}

// checksum counts a table's rows and hashes them, in primary key order,
// in a canonical form both databases produce alike: every value converted
// to its PostgreSQL type, then written typed and length-prefixed (i42;
// s5:hello; b32:…; n; one line per row). Text keys sort bytewise on both
// sides (SQLite's BINARY collation, PostgreSQL's "C").
func checksum(ctx context.Context, src rowSource, t tablePlan, pg bool) (int64, string, error) {
	order := make([]string, len(t.key))
	for i, k := range t.key {
		order[i] = quote(k)
		if pg && (t.types[k] == "text" || t.types[k] == "character varying") {
			order[i] += ` COLLATE "C"`
		}
	}
	query := `SELECT ` + quoteList(t.columns) + ` FROM ` + quote(t.name) + ` ORDER BY ` + strings.Join(order, ", ")
	h := sha256.New()
	var n int64
	err := src(ctx, query, func(vals []any) error {
		n++
		for i, v := range vals {
			c, err := convert(t.types[t.columns[i]], v)
			if err != nil {
				return fmt.Errorf("row %d, column %s: %w", n, t.columns[i], err)
			}
			writeCanonical(h, c)
		}
		h.Write([]byte{'\n'})
		return nil
	})
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

func writeCanonical(h hash.Hash, v any) {
	switch x := v.(type) {
	case nil:
		io.WriteString(h, "n;")
	case int64:
		io.WriteString(h, "i"+strconv.FormatInt(x, 10)+";")
	case bool:
		if x {
			io.WriteString(h, "i1;")
		} else {
			io.WriteString(h, "i0;")
		}
	case string:
		io.WriteString(h, "s"+strconv.Itoa(len(x))+":"+x+";")
	case []byte:
		io.WriteString(h, "b"+strconv.Itoa(len(x))+":")
		h.Write(x)
		io.WriteString(h, ";")
	}
}

func sqliteList(ctx context.Context, conn *sql.Conn, query string, args ...any) ([]string, error) {
	rows, err := conn.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// diff returns what only a has and what only b has.
func diff(a, b []string) (onlyA, onlyB []string) {
	for _, x := range a {
		if !slices.Contains(b, x) {
			onlyA = append(onlyA, x)
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			onlyB = append(onlyB, x)
		}
	}
	return onlyA, onlyB
}

// quote quotes an identifier the way both SQLite and PostgreSQL read it.
func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	return strings.Join(q, ", ")
}
