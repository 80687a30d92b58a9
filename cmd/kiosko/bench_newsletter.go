package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/mail"
	"github.com/kiosko/kiosko/internal/newsletter"
	"github.com/kiosko/kiosko/internal/postgres"
	"github.com/kiosko/kiosko/internal/sqlite"
)

// listmonk's figures from issue 18 (v6.2, the same 20,000 subscribers,
// ~11.7 KB issue, counting sink and 8 connections, on this machine). It
// cannot run here, so they are the fixed reference.
const (
	listmonkRate   = 1202 // messages per second
	listmonkCPUms  = 0.47 // milliseconds of CPU per message
	nlTargetRate   = 1.5  // kiosko on SQLite: at least this times listmonk's rate
	nlTargetPGRate = 0.8  // kiosko on PostgreSQL: at least this times the SQLite rate
)

// newsletterBenchOptions are the flags of the newsletter part.
type newsletterBenchOptions struct {
	subscribers int
	conns       int
	rounds      int
	postgres    string
	cpuProfile  string
	batch       int
}

func newsletterBenchFlags(fs *flag.FlagSet) *newsletterBenchOptions {
	o := &newsletterBenchOptions{}
	fs.IntVar(&o.subscribers, "subscribers", 20_000, "newsletter part: confirmed subscribers an issue goes to")
	fs.IntVar(&o.conns, "smtp-connections", 8, "newsletter part: SMTP connections, for kiosko and the bare sender alike")
	fs.IntVar(&o.rounds, "nl-rounds", 3, "newsletter part: bare, SQLite and PostgreSQL sends alternate this many times; the median is reported")
	fs.StringVar(&o.postgres, "postgres", os.Getenv("KIOSKO_TEST_POSTGRES"), "newsletter part: also send from PostgreSQL at this URL, in a schema of its own (env KIOSKO_TEST_POSTGRES)")
	fs.IntVar(&o.batch, "nl-batch", 0, "newsletter part: deliveries a worker commits at once (0: the default, NewsletterSettings.BatchSize)")
	fs.StringVar(&o.cpuProfile, "nl-cpuprofile", "", "newsletter part: write a CPU profile of the first SQLite send to this file")
	return o
}

// nlRun is one timed send.
type nlRun struct {
	msgs    int
	elapsed time.Duration
	cpu     time.Duration // the whole process: sender, store, and the sink
	sinkCPU time.Duration // the sink's threads alone
}

func (r nlRun) rate() float64 { return float64(r.msgs) / r.elapsed.Seconds() }

// cpuPerMsg is the sender's CPU per message: the process's, less the sink's.
func (r nlRun) cpuPerMsg() time.Duration { return (r.cpu - r.sinkCPU) / time.Duration(r.msgs) }

func (r nlRun) allPerMsg() time.Duration { return r.cpu / time.Duration(r.msgs) }

// newsletter measures sending one issue to --subscribers confirmed
// subscribers over --smtp-connections connections to a counting SMTP sink
// in this process: the ceiling is a bare sender pushing the same encoded
// messages over as many connections; then kiosko's real send
// (Newsletter.SendIssue) on SQLite and, with --postgres, PostgreSQL.
func (b *benchRun) newsletter(ctx context.Context, o *newsletterBenchOptions) error {
	if b.o.tiny {
		o.subscribers, o.rounds = min(o.subscribers, 300), 1
	}
	if o.subscribers <= 0 || o.conns <= 0 || o.rounds <= 0 {
		return errors.New("bench: --subscribers, --smtp-connections and --nl-rounds must be positive")
	}
	sink, err := startSink(o.subscribers)
	if err != nil {
		return err
	}
	defer sink.close()
	dir, err := os.MkdirTemp("", "kiosko-bench-newsletter-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	type store struct {
		name string
		db   kiosko.Store
		n    *kiosko.Newsletter
	}
	var stores []*store
	lite, err := sqlite.Open(filepath.Join(dir, "kiosko.db"))
	if err != nil {
		return err
	}
	defer lite.Close()
	stores = append(stores, &store{name: "kiosko, SQLite", db: lite})
	if o.postgres != "" {
		pg, drop, err := benchPostgres(ctx, o.postgres)
		if err != nil {
			fmt.Fprintf(b.out, "PostgreSQL at %s does not answer (%v): measuring SQLite only\n\n", redactURL(o.postgres), err)
		} else {
			defer drop()
			defer pg.Close()
			stores = append(stores, &store{name: "kiosko, PostgreSQL", db: pg})
		}
	}
	for _, s := range stores {
		if s.n, err = benchNewsletterService(s.db, sink.addr, o.conns); err != nil {
			return err
		}
		if o.batch > 0 {
			s.n.Settings.BatchSize = o.batch
		}
		defer s.n.Bulk.Close()
	}

	// Every round sends a new edition's issue to its own subscribers.
	emails := make([]string, o.subscribers)
	var csv strings.Builder
	csv.WriteString("email,name\n")
	for i := range emails {
		emails[i] = fmt.Sprintf("reader%06d@example.com", i)
		fmt.Fprintf(&csv, "%s,Lector %d\n", emails[i], i)
	}
	began := time.Now()
	for _, s := range stores {
		for r := range o.rounds {
			if err := benchEdition(ctx, s.n, fmt.Sprintf("nl%d", r), csv.String()); err != nil {
				return fmt.Errorf("bench: %s: %w", s.name, err)
			}
		}
	}
	fmt.Fprintf(b.out, "  %d subscribers x %d rounds made in each store in %v\n", o.subscribers, o.rounds, time.Since(began).Round(time.Second))

	// The bare sender's messages are kiosko's own, rendered and encoded
	// before the clock starts.
	wire, size, err := benchWire(ctx, stores[0].n, "nl0", emails)
	if err != nil {
		return err
	}
	st := stores[0].n.Settings
	fmt.Fprintf(b.out, "Newsletter: one issue (%.1f KB on the wire) to %d subscribers over %d SMTP connections into a counting sink in this process (PIPELINING offered), batches of %d, median of %d rounds\n",
		float64(size)/1000, o.subscribers, o.conns, cmp.Or(st.BatchSize, kiosko.DefaultNewsletterSettings().BatchSize), o.rounds)

	results := map[string][]nlRun{}
	measure := func(name string, send func() (int, error)) error {
		sink.reset()
		runtime.GC()
		cpu0, sink0 := processCPU(), sink.cpu()
		t0 := time.Now()
		n, err := send()
		elapsed := time.Since(t0)
		cpu, sinkCPU := processCPU()-cpu0, sink.cpu()-sink0
		if err != nil {
			return fmt.Errorf("bench: %s: %w", name, err)
		}
		got, dup := sink.counts()
		if n != o.subscribers || got != o.subscribers || dup != 0 {
			return fmt.Errorf("bench: %s: sent %d, the sink got %d for %d subscribers, %d of them more than once", name, n, got, o.subscribers, dup)
		}
		results[name] = append(results[name], nlRun{msgs: n, elapsed: elapsed, cpu: cpu, sinkCPU: sinkCPU})
		return nil
	}
	for r := range o.rounds {
		if err := measure("ceiling (bare sender)", func() (int, error) { return bareSend(ctx, sink.addr, o.conns, wire) }); err != nil {
			return err
		}
		for _, s := range stores {
			stopProfile := func() {}
			if o.cpuProfile != "" && r == 0 && s == stores[0] {
				f, err := os.Create(o.cpuProfile)
				if err != nil {
					return err
				}
				if err := pprof.StartCPUProfile(f); err != nil {
					f.Close()
					return err
				}
				stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
			}
			err := measure(s.name, func() (int, error) {
				rep, err := s.n.SendIssue(ctx, fmt.Sprintf("nl%d", r), kiosko.SendOptions{})
				if err != nil {
					return 0, err
				}
				return rep.Sent, nil
			})
			stopProfile()
			if err != nil {
				return err
			}
		}
	}

	median := func(rs []nlRun) nlRun {
		rs = slices.Clone(rs)
		slices.SortFunc(rs, func(a, b nlRun) int { return int(a.elapsed - b.elapsed) })
		return rs[len(rs)/2]
	}
	ceiling := median(results["ceiling (bare sender)"])
	fmt.Fprintf(b.out, "  %-22s %9s %12s %15s %11s %11s   %s\n", "", "msg/s", "CPU/msg", "CPU/msg + sink", "vs ceiling", "vs listmonk", "every round (msg/s)")
	row := func(name string) nlRun {
		m := median(results[name])
		var all []string
		for _, r := range results[name] {
			all = append(all, fmt.Sprintf("%.0f", r.rate()))
		}
		fmt.Fprintf(b.out, "  %-22s %9.0f %9.3f ms %12.3f ms %10.2fx %10.2fx   %s\n", name, m.rate(), msf(m.cpuPerMsg()), msf(m.allPerMsg()),
			m.rate()/ceiling.rate(), m.rate()/listmonkRate, strings.Join(all, " "))
		return m
	}
	row("ceiling (bare sender)")
	lite0 := row(stores[0].name)
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	fmt.Fprintf(b.out, "  listmonk v6.2 (issue 18, fixed reference) %.0f msg/s, %.2f ms CPU/msg\n", float64(listmonkRate), listmonkCPUms)
	fmt.Fprintf(b.out, "  target SQLite >= %.0f msg/s (%.1fx listmonk): %.0f, %s; CPU/msg <= %.2f ms: %.3f ms, %s (%.3f ms counting the sink's share)\n",
		nlTargetRate*listmonkRate, nlTargetRate, lite0.rate(), verdict(lite0.rate() >= nlTargetRate*listmonkRate),
		listmonkCPUms, msf(lite0.cpuPerMsg()), verdict(msf(lite0.cpuPerMsg()) <= listmonkCPUms), msf(lite0.allPerMsg()))
	if len(stores) > 1 {
		pg := row(stores[1].name)
		// Each round's PostgreSQL send runs right after its SQLite send, so
		// the pair saw the same load on the machine.
		var paired []float64
		var pairs []string
		for r := range results[stores[1].name] {
			x := results[stores[1].name][r].rate() / results[stores[0].name][r].rate()
			paired = append(paired, x)
			pairs = append(pairs, fmt.Sprintf("%.2f", x))
		}
		slices.Sort(paired)
		fmt.Fprintf(b.out, "  target PostgreSQL >= %.1fx SQLite: %.2fx by the medians, %.2fx the median of each round's pair (%s), %s\n", nlTargetPGRate,
			pg.rate()/lite0.rate(), paired[len(paired)/2], strings.Join(pairs, " "), verdict(paired[len(paired)/2] >= nlTargetPGRate))
	}
	fmt.Fprintf(b.out, "  CPU/msg is this process's user+sys time less the sink's own threads, per message; the next column counts the sink too\n\n")
	return nil
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// benchNewsletterService is the newsletter as serve wires it, sending to
// addr over conns connections with no rate limit.
func benchNewsletterService(db kiosko.Store, addr string, conns int) (*kiosko.Newsletter, error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := mail.Config{Addr: addr, From: "El Kiosko <boletin@news.example.com>", HELO: "bench.localhost", Log: log}
	bulk, err := mail.NewBulk(cfg, mail.BulkConfig{Connections: conns})
	if err != nil {
		return nil, err
	}
	r, err := newsletter.NewRenderer(nil)
	if err != nil {
		bulk.Close()
		return nil, err
	}
	st := kiosko.DefaultNewsletterSettings()
	st.Concurrency = conns
	return &kiosko.Newsletter{Store: db, Mailer: mail.New(cfg), Bulk: bulk, Render: r, Clock: kiosko.SystemClock{},
		PublicURL: "https://news.example.com", Settings: st, Log: log}, nil
}

// benchEdition makes an edition with a week of articles (an issue of
// about 11.7 KB, as in issue 18) and imports the subscribers.
func benchEdition(ctx context.Context, n *kiosko.Newsletter, code, csv string) error {
	if err := n.Store.CreateEdition(ctx, &kiosko.Edition{Code: code, Name: "El Kiosko", Lang: "es", Timezone: "Europe/Madrid"}); err != nil {
		return err
	}
	now := time.Now().UTC()
	for i := range 8 {
		a := &kiosko.Article{ID: fmt.Sprintf("%s-noticia-%02d", code, i), Edition: code,
			Title:      fmt.Sprintf("El Congreso aprueba la reforma número %d tras una sesión de doce horas", i+1),
			Standfirst: "La votación salió adelante por dos votos; la oposición anuncia que recurrirá ante el Constitucional y los socios piden cambios en el reglamento.",
			Authors:    []string{"Lucía Gómez Fernández"}, Access: kiosko.AccessFree, BodyMarkdown: "…", BodyHTML: "<p>…</p>\n",
			PublishedAt: now.Add(-time.Duration(i+1) * time.Hour)}
		if err := n.Store.CreateArticle(ctx, a); err != nil {
			return err
		}
	}
	rep, err := n.Import(ctx, code, strings.NewReader(csv), nil)
	if err != nil {
		return err
	}
	if len(rep.Refused) > 0 {
		return fmt.Errorf("import refused %d rows", len(rep.Refused))
	}
	return nil
}

// benchWire renders and encodes every subscriber's copy of code's issue
// as kiosko writes it, for the bare sender.
func benchWire(ctx context.Context, n *kiosko.Newsletter, code string, emails []string) ([][]byte, int, error) {
	m, _, err := n.Preview(ctx, code, emails[0], "Lector 0")
	if err != nil {
		return nil, 0, err
	}
	// Preview writes a "preview" token; a real one is 43 characters.
	token := "token=" + strings.Repeat("x", 43)
	m.Text = strings.ReplaceAll(m.Text, "token=preview", token)
	m.HTML = strings.ReplaceAll(m.HTML, "token=preview", token)
	bm := &kiosko.BulkMessage{To: m.To, Subject: m.Subject, Headers: m.Headers, Text: []kiosko.Piece{{Text: m.Text}}, HTML: []kiosko.Piece{{Text: m.HTML}}}
	bm.Headers["List-Unsubscribe"] = "<https://news.example.com/newsletter/unsubscribe?" + token + ">"
	bm.Headers["Message-ID"] = "<issue-1.sub-1@news.example.com>"
	first, _, err := mail.Wire("El Kiosko <boletin@news.example.com>", bm)
	if err != nil {
		return nil, 0, err
	}
	// The same bytes for everyone but the address: previews are slow to
	// make 20,000 times.
	wire := make([][]byte, len(emails))
	for i, e := range emails {
		wire[i] = bytes.ReplaceAll(first, []byte(emails[0]), []byte(e))
	}
	return wire, len(first), nil
}

// bareSender pushes ready messages: MAIL, RCPT and DATA pipelined, the
// message in one write with its dot, over conns connections.
func bareSend(ctx context.Context, addr string, conns int, wire [][]byte) (int, error) {
	var next, sent atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for range conns {
		wg.Go(func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			br := bufio.NewReader(c)
			reply := func() error {
				for {
					line, err := br.ReadSlice('\n')
					if err != nil {
						return err
					}
					if len(line) < 4 || line[0] >= '4' {
						return fmt.Errorf("sink said %q", line)
					}
					if line[3] != '-' {
						return nil
					}
				}
			}
			if err := reply(); err != nil {
				errs <- err
				return
			}
			if _, err := io.WriteString(c, "EHLO bare.localhost\r\n"); err != nil {
				errs <- err
				return
			}
			if err := reply(); err != nil {
				errs <- err
				return
			}
			var buf []byte
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(wire) {
					break
				}
				to := rcptOf(wire[i])
				buf = append(buf[:0], "MAIL FROM:<boletin@news.example.com>\r\nRCPT TO:<"...)
				buf = append(buf, to...)
				buf = append(buf, ">\r\nDATA\r\n"...)
				if _, err := c.Write(buf); err != nil {
					errs <- err
					return
				}
				for range 3 {
					if err := reply(); err != nil {
						errs <- err
						return
					}
				}
				buf = append(append(buf[:0], wire[i]...), ".\r\n"...)
				if _, err := c.Write(buf); err != nil {
					errs <- err
					return
				}
				if err := reply(); err != nil {
					errs <- err
					return
				}
				sent.Add(1)
			}
			_, _ = io.WriteString(c, "QUIT\r\n")
		})
	}
	wg.Wait()
	close(errs)
	return int(sent.Load()), <-errs
}

// rcptOf finds the To address of a wire message.
func rcptOf(msg []byte) []byte {
	i := bytes.Index(msg, []byte("\r\nTo: <"))
	if i < 0 {
		return nil
	}
	rest := msg[i+len("\r\nTo: <"):]
	return rest[:bytes.IndexByte(rest, '>')]
}

// processCPU is this process's user+sys time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rusageThread is Linux's RUSAGE_THREAD.
const rusageThread = 1

func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sink is a counting SMTP server: it accepts every message and counts,
// per subscriber, how many it got. Each connection's goroutine keeps an
// OS thread to itself, so the sink's CPU can be told apart from the
// sender's.
type sink struct {
	addr string
	l    net.Listener
	got  []atomic.Int32 // by subscriber number (readerNNNNNN@)

	mu      sync.Mutex
	threads []*atomic.Int64 // each connection's thread CPU, in ns
	wg      sync.WaitGroup
}

func startSink(subscribers int) (*sink, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{addr: l.Addr().String(), l: l, got: make([]atomic.Int32, subscribers)}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			used := new(atomic.Int64)
			s.mu.Lock()
			s.threads = append(s.threads, used)
			s.mu.Unlock()
			s.wg.Go(func() { s.serve(c, used) })
		}
	}()
	return s, nil
}

func (s *sink) close() {
	s.l.Close()
}

func (s *sink) reset() {
	for i := range s.got {
		s.got[i].Store(0)
	}
}

// counts returns how many subscribers got a message and how many got more.
func (s *sink) counts() (got, dup int) {
	for i := range s.got {
		switch n := s.got[i].Load(); {
		case n == 1:
			got++
		case n > 1:
			got++
			dup++
		}
	}
	return got, dup
}

// cpu is the CPU the sink's connections have used so far.
func (s *sink) cpu() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var t int64
	for _, u := range s.threads {
		t += u.Load()
	}
	return time.Duration(t)
}

func (s *sink) serve(c net.Conn, used *atomic.Int64) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	defer c.Close()
	r := bufio.NewReaderSize(c, 64<<10)
	w := bufio.NewWriter(c)
	say := func(line string) {
		w.WriteString(line)
		w.WriteString("\r\n")
		if r.Buffered() == 0 {
			w.Flush()
		}
	}
	say("220 sink ESMTP")
	w.Flush()
	rcpt := -1
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(string(bytes.TrimSpace(line)))
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			w.WriteString("250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n")
			say("250 SMTPUTF8")
		case strings.HasPrefix(cmd, "HELO"):
			say("250 sink")
		case strings.HasPrefix(cmd, "MAIL FROM"):
			rcpt = -1
			say("250 2.1.0 ok")
		case strings.HasPrefix(cmd, "RCPT TO"):
			if i := strings.Index(cmd, "READER"); i >= 0 && len(cmd) >= i+12 {
				if n, err := strconv.Atoi(cmd[i+6 : i+12]); err == nil {
					rcpt = n
				}
			}
			say("250 2.1.5 ok")
		case cmd == "DATA":
			say("354 go ahead")
			for {
				l, err := r.ReadSlice('\n')
				if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
					return
				}
				if len(l) == 3 && l[0] == '.' && l[1] == '\r' {
					break
				}
			}
			if rcpt >= 0 && rcpt < len(s.got) {
				s.got[rcpt].Add(1)
			}
			say("250 2.0.0 queued")
			used.Store(int64(threadCPU() - start))
		case cmd == "RSET", cmd == "NOOP":
			say("250 ok")
		case cmd == "QUIT":
			say("221 bye")
			w.Flush()
			return
		default:
			say("502 5.5.2 unknown command")
		}
	}
}

// benchPostgres opens a fresh schema of the database at u; drop removes it.
func benchPostgres(ctx context.Context, u string) (*postgres.DB, func(), error) {
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	schema := "kiosko_bench_" + randomHex(6)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := pool.Exec(pctx, `CREATE SCHEMA `+schema); err != nil {
		pool.Close()
		return nil, nil, err
	}
	drop := func() {
		_, _ = pool.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
		pool.Close()
	}
	pu, err := url.Parse(u)
	if err != nil {
		drop()
		return nil, nil, err
	}
	q := pu.Query()
	q.Set("search_path", schema)
	pu.RawQuery = q.Encode()
	db, err := postgres.Open(ctx, pu.String())
	if err != nil {
		drop()
		return nil, nil, err
	}
	return db, drop, nil
}
