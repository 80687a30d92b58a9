package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/bench"
	kredis "github.com/kiosko/kiosko/internal/redis"
)

// benchOptions are the flags of kiosko bench.
type benchOptions struct {
	duration    time.Duration
	warmup      time.Duration
	connections int
	seats       int
	rounds      int
	redisURL    string
	streams     int
	takeovers   int
	leases      int
	parts       string
	cpuProfile  string
	profiled    string
	uncached    bool
	tiny        bool
	sessions    int     // production part: signed-in sessions, each on its own seat
	rate        float64 // production part: heartbeats/s offered
}

const benchUsage = `kiosko bench [--duration 10s] [--connections 64] [--seats 2000] [--redis URL] [--tiny]

Measures, in one run on this machine, on 127.0.0.1 only:
  heartbeat  a bare net/http JSON handler (the ceiling) against kiosko's real
             POST /api/v1/reading/heartbeat (in-memory engine, and Redis when
             --redis or KIOSKO_REDIS_URL is given and answers): requests/s,
             p50, p99 and the ratio kiosko/bare
  memory     bytes per held lease at --leases leases, in memory and in Redis
  push       --streams open event streams; takeover-to-"displaced" latency
             over --takeovers takeovers; memory per open stream
  pages      (--only pages) front page, open, free and subscriber article pages
             against a handler writing the same bytes (bench_pages.go)
  newsletter (--only newsletter) one issue to --subscribers over
             --smtp-connections against a bare sender, SQLite and --postgres
`

func benchCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kiosko bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	var o benchOptions
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measuring time of each heartbeat run")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured load before each heartbeat run")
	fs.IntVar(&o.connections, "connections", 64, "keep-alive connections of the load generator")
	fs.IntVar(&o.seats, "seats", 2000, "reader accounts, each with a Digital seat and a session (at least --connections: each connection heartbeats its own)")
	fs.IntVar(&o.rounds, "rounds", 3, "bare and kiosko runs alternate this many times; the median round is reported")
	fs.StringVar(&o.redisURL, "redis", os.Getenv("KIOSKO_REDIS_URL"), "Redis URL: also measure the Redis engine (env KIOSKO_REDIS_URL)")
	fs.IntVar(&o.streams, "streams", 10000, "open event streams for the push measurement")
	fs.IntVar(&o.takeovers, "takeovers", 2000, "takeovers timed for the push measurement")
	fs.IntVar(&o.leases, "leases", 1_000_000, "held leases for the memory measurement")
	fs.StringVar(&o.parts, "only", "heartbeat,memory,push", "which parts to run (also: production, pages, newsletter)")
	fs.IntVar(&o.sessions, "sessions", 100_000, "production part: signed-in readers, each on a seat of its own")
	fs.Float64Var(&o.rate, "rate", 5000, "production part: heartbeats per second offered (each session at most every 5 s)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the first kiosko heartbeat run (caches on) to this file")
	fs.StringVar(&o.profiled, "profile-engine", "memory", "the engine --cpuprofile profiles: memory or redis")
	fs.BoolVar(&o.uncached, "uncached", true, "also measure kiosko with its session and seat caches off (each heartbeat reads the database)")
	nl := newsletterBenchFlags(fs) // bench_newsletter.go
	var streamClient bool
	fs.BoolVar(&streamClient, "stream-client", false, "(internal) hold the client ends of event streams for the push part")
	fs.BoolVar(&o.tiny, "tiny", false, "a run of a few hundred milliseconds that only checks everything works (CI)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected arguments %q", fs.Args())
	}
	if streamClient {
		return benchStreamClient(os.Stdin, stdout)
	}
	if o.tiny {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		tiny := map[string]func(){
			"duration":    func() { o.duration = 50 * time.Millisecond },
			"warmup":      func() { o.warmup = 10 * time.Millisecond },
			"connections": func() { o.connections = 4 },
			"seats":       func() { o.seats = 16 },
			"rounds":      func() { o.rounds = 1 },
			"streams":     func() { o.streams = 20 },
			"takeovers":   func() { o.takeovers = 10 },
			"leases":      func() { o.leases = 2000 },
			"uncached":    func() { o.uncached = false },
			"sessions":    func() { o.sessions = 40 },
			"rate":        func() { o.rate = 400 },
			"only":        func() { o.parts += ",production,pages" },
		}
		for name, f := range tiny {
			if !set[name] {
				f()
			}
		}
	}
	if o.connections <= 0 || o.seats <= 0 || o.rounds <= 0 || o.duration <= 0 {
		return errors.New("bench: --connections, --seats, --rounds and --duration must be positive")
	}
	if o.duration > 10*time.Minute {
		return errors.New("bench: --duration is at most 10m")
	}
	o.seats = max(o.seats, o.connections)
	parts := map[string]bool{}
	for _, p := range strings.Split(o.parts, ",") {
		switch p = strings.TrimSpace(p); p {
		case "heartbeat", "memory", "push", "production", "pages", "newsletter":
			parts[p] = true
		case "":
		default:
			return fmt.Errorf("bench: --only: unknown part %q (heartbeat, memory, push, production, pages, newsletter)", p)
		}
	}
	raiseFileLimit(o.streams + 4*o.connections + 1024)

	b := &benchRun{o: o, out: stdout, log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))}
	fmt.Fprintf(stdout, "kiosko bench: %s\n\n", bench.Machine())
	if o.redisURL != "" {
		if err := pingRedis(ctx, o.redisURL); err != nil {
			fmt.Fprintf(stdout, "Redis at %s does not answer (%v): measuring the in-memory engine only\n\n", redactURL(o.redisURL), err)
			o.redisURL, b.o.redisURL = "", ""
		}
	}
	if parts["heartbeat"] {
		if err := b.heartbeat(ctx); err != nil {
			return err
		}
	}
	if parts["production"] {
		if err := b.production(ctx); err != nil { // bench_production.go
			return err
		}
	}
	if parts["pages"] {
		if err := b.pages(ctx); err != nil { // bench_pages.go
			return err
		}
	}
	if parts["newsletter"] {
		if err := b.newsletter(ctx, nl); err != nil { // bench_newsletter.go
			return err
		}
	}
	if parts["memory"] {
		if err := b.memory(ctx); err != nil {
			return err
		}
	}
	if parts["push"] {
		if err := b.push(ctx); err != nil {
			return err
		}
	}
	return nil
}

// benchRun carries one bench command through its parts.
type benchRun struct {
	o   benchOptions
	out io.Writer
	log *slog.Logger
}

// raiseFileLimit lets one process hold both ends of every connection.
func raiseFileLimit(want int) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur >= uint64(want) {
		return
	}
	lim.Cur = uint64(want)
	if lim.Max < lim.Cur {
		lim.Max = lim.Cur // only root may; otherwise the next call fails and the push part says so
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

func pingRedis(ctx context.Context, url string) error {
	c, err := kredis.NewClient(url)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}

// benchServer is a real kiosko Main on 127.0.0.1:0 with a temporary data
// directory and readers made straight in its store.
type benchServer struct {
	m       *Main
	dir     string
	prefix  string // Redis key prefix, removed at the end
	readers []benchReader
}

// benchReader is an account with a Digital seat and a session.
type benchReader struct {
	account *kiosko.Account
	token   string
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startServer starts kiosko with the in-memory engine, or Redis when
// redisURL is set, and readers accounts signed in on one device each.
func (b *benchRun) startServer(ctx context.Context, redisURL string, readers int) (*benchServer, error) {
	dir, err := os.MkdirTemp("", "kiosko-bench-*")
	if err != nil {
		return nil, err
	}
	cfg, err := parseConfig(flag.NewFlagSet("bench", flag.ContinueOnError), nil)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cfg.Addr, cfg.Data, cfg.DatabaseURL, cfg.SeedDemo = "127.0.0.1:0", dir, "", false
	cfg.SMTPAddr, cfg.StripeKey, cfg.PublicURL, cfg.LogLevel = "", "", "", "error"
	cfg.NewsletterDay = "off"
	cfg.RedisURL = redisURL
	s := &benchServer{dir: dir}
	if redisURL != "" {
		// Keys of their own, so a bench never touches a running site's.
		s.prefix = "kbench" + randomHex(4) + ":"
		cfg.RedisPrefix = s.prefix
	}
	s.m = NewMain(cfg, b.log)
	if err := s.m.Run(ctx); err != nil {
		s.close()
		return nil, fmt.Errorf("bench: start kiosko: %w", err)
	}
	if err := s.addReaders(ctx, readers); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// addReaders creates n accounts with a Digital subscription (one seat each)
// and a session on a device of their own.
func (s *benchServer) addReaders(ctx context.Context, n int) error {
	now := time.Now().UTC()
	tag := randomHex(3)
	for i := len(s.readers); i < n; i++ {
		a := &kiosko.Account{Email: fmt.Sprintf("reader%d-%s@bench.invalid", i, tag), Name: "Bench reader",
			PasswordHash: "bench: never signs in with a password", Role: kiosko.RoleReader, Lang: kiosko.LangSpanish,
			PasswordChangedAt: now, CreatedAt: now}
		if err := s.m.Store.CreateAccount(ctx, a); err != nil {
			return fmt.Errorf("bench: create account: %w", err)
		}
		sub := &kiosko.Subscription{OwnerID: a.ID, PlanCode: kiosko.PlanDigital, Status: kiosko.StatusActive, Seats: 1, PriceCents: 999,
			Currency: "EUR", Provider: kiosko.ProviderManual, CurrentPeriodEnd: now.AddDate(1, 0, 0), CreatedAt: now}
		if err := s.m.Store.CreateSubscription(ctx, sub); err != nil {
			return fmt.Errorf("bench: create subscription: %w", err)
		}
		res, err := s.m.Auth.StartSession(ctx, a, kiosko.Client{DeviceName: "Bench on Linux", UserAgent: "kiosko-bench"})
		if err != nil {
			return fmt.Errorf("bench: sign in: %w", err)
		}
		s.readers = append(s.readers, benchReader{account: a, token: res.Token})
	}
	return nil
}

// signIn starts one more session of reader i, on another device.
func (s *benchServer) signIn(ctx context.Context, i int) (string, error) {
	res, err := s.m.Auth.StartSession(ctx, s.readers[i].account, kiosko.Client{DeviceName: "Bench phone", UserAgent: "kiosko-bench"})
	if err != nil {
		return "", fmt.Errorf("bench: sign in: %w", err)
	}
	return res.Token, nil
}

func (s *benchServer) close() {
	if s.m != nil {
		s.m.Close()
	}
	if s.prefix != "" && s.m != nil && s.m.Config.RedisURL != "" {
		if c, err := kredis.NewClient(s.m.Config.RedisURL); err == nil {
			_, _ = bench.DeleteKeys(context.Background(), c, s.prefix)
			c.Close()
		}
	}
	os.RemoveAll(s.dir)
}

// heartbeat measures the bare handler and kiosko's heartbeat side by side.
func (b *benchRun) heartbeat(ctx context.Context) error {
	o := b.o
	bare, err := bench.Serve(bench.BareHandler())
	if err != nil {
		return err
	}
	defer bare.Close()
	body := []byte(`{"active":true}`)
	bareLoad := bench.Load{Name: "bare net/http handler", Addr: bare.Addr, Connections: o.connections, Warmup: o.warmup, Duration: o.duration,
		Request: func(int) [][]byte { return [][]byte{bench.PostJSON(bare.Addr, "/api/v1/reading/heartbeat", "", body)} }}

	type engine struct {
		name, redis string
		uncached    bool
	}
	engines := []engine{{name: "kiosko heartbeat, in-memory engine"}}
	if o.uncached {
		engines = append(engines, engine{name: "kiosko heartbeat, in-memory, caches off", uncached: true})
	}
	if o.redisURL != "" {
		engines = append(engines, engine{name: "kiosko heartbeat, Redis engine", redis: o.redisURL})
		if o.uncached {
			engines = append(engines, engine{name: "kiosko heartbeat, Redis, caches off", redis: o.redisURL, uncached: true})
		}
	}
	fmt.Fprintf(b.out, "Heartbeat: %d connections, %v per run (after %v warm-up), %d seats, median of %d alternating rounds\n",
		o.connections, o.duration, o.warmup, o.seats, o.rounds)
	var profile *os.File
	if o.cpuProfile != "" {
		if profile, err = os.Create(o.cpuProfile); err != nil {
			return err
		}
		defer profile.Close()
	}
	var pairs []bench.Pair
	for _, e := range engines {
		s, err := b.startServer(ctx, e.redis, o.seats)
		if err != nil {
			return err
		}
		if e.uncached {
			s.m.Auth.Settings.SessionCacheTTL = -1
			s.m.Reading.SeatCacheTTL = -1
		}
		addr := s.m.Addr()
		load := bench.Load{Name: e.name, Addr: addr, Connections: o.connections, Warmup: o.warmup, Duration: o.duration,
			Request: func(c int) [][]byte {
				// Each connection is one reader's page, heartbeating its own
				// session on its own seat.
				return [][]byte{bench.PostJSON(addr, "/api/v1/reading/heartbeat", s.readers[c%len(s.readers)].token, body)}
			}}
		profiled := profile != nil && (e.redis != "") == (o.profiled == "redis") && !e.uncached
		// Bare and kiosko runs alternate, so a change in the machine's
		// load hits both alike.
		var bares, kioskos []*bench.Result
		for round := 0; round < o.rounds; round++ {
			r, err := bench.Run(ctx, bareLoad)
			if err != nil {
				s.close()
				return err
			}
			bares = append(bares, r)
			if profiled {
				if err := pprof.StartCPUProfile(profile); err != nil {
					s.close()
					return err
				}
			}
			r, err = bench.Run(ctx, load)
			if profiled {
				pprof.StopCPUProfile()
				profiled = false // one profile per file
			}
			if err != nil {
				s.close()
				return err
			}
			kioskos = append(kioskos, r)
		}
		s.close()
		p := bench.MedianPair(bares, kioskos)
		if p.Kiosko.Errors > 0 {
			return fmt.Errorf("bench: %s: %d answers were not 200 (%v)", e.name, p.Kiosko.Errors, p.Kiosko.Statuses)
		}
		pairs = append(pairs, p)
		runtime.GC()
	}
	bench.PrintPairs(b.out, pairs)
	fmt.Fprintln(b.out)
	return nil
}

// memory measures the bytes a held lease takes in each engine.
func (b *benchRun) memory(ctx context.Context) error {
	n := b.o.leases
	fmt.Fprintf(b.out, "Memory per held lease, %d leases:\n", n)
	per, err := bench.InmemLeaseBytes(n)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "  in-memory engine  %6.1f bytes/lease (Go heap growth)\n", per)
	runtime.GC()
	if b.o.redisURL != "" {
		per, err := bench.RedisLeaseBytes(ctx, b.o.redisURL, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(b.out, "  Redis engine      %6.1f bytes/lease (used_memory growth)\n", per)
	}
	fmt.Fprintln(b.out)
	return nil
}

// benchArticle is the subscriber article the push part's devices read.
const benchArticle = "bench-subscriber-article"

// push opens event streams on one node and times takeover to displaced.
// The streams' client ends live in a child process (this binary again), so
// this process holds only the server ends, as a node would, and what it
// measures is the server's memory alone.
func (b *benchRun) push(ctx context.Context) error {
	o := b.o
	n := o.streams
	fmt.Fprintf(b.out, "Push: %d open event streams on one node (in-memory engine), %d takeovers\n", n, min(o.takeovers, n))
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(n+256) {
		return fmt.Errorf("bench: %d streams need %d open files; the limit is %d", n, n+256, lim.Cur)
	}
	s, err := b.startServer(ctx, "", n)
	if err != nil {
		return err
	}
	defer s.close()
	now := time.Now().UTC()
	if err := s.m.Store.CreateArticle(ctx, &kiosko.Article{ID: benchArticle, Edition: "es", Title: "Bench", BodyMarkdown: "Text.", BodyHTML: "<p>Text.</p>\n",
		Access: kiosko.AccessSubscriber, PublishedAt: now.Add(-time.Hour)}); err != nil && kiosko.ErrorCode(err) != kiosko.ECONFLICT {
		return fmt.Errorf("bench: create article: %w", err)
	}
	tokens := make([]string, n)
	for i, r := range s.readers[:n] {
		tokens[i] = r.token
	}

	m0 := bench.MeasureMem()
	opened := time.Now()
	clients, err := startStreamClients(ctx, s.m.Addr(), tokens)
	if err != nil {
		return err
	}
	defer clients.close()
	openTime := time.Since(opened)
	grown := bench.MeasureMem().Sub(m0)
	if subs, ok := s.m.Hub.(interface{ Subscribers() int }); ok && subs.Subscribers() != n {
		return fmt.Errorf("bench: %d streams subscribed, want %d", subs.Subscribers(), n)
	}

	lat, err := b.takeovers(ctx, s, clients, min(o.takeovers, n))
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "  %d streams opened in %v (client ends in a child process)\n", n, openTime.Round(time.Millisecond))
	fmt.Fprintf(b.out, "  takeover -> displaced received: p50 %s, p99 %s, max %s over %d takeovers\n",
		msStr(lat.Quantile(0.5)), msStr(lat.Quantile(0.99)), msStr(lat.Max()), lat.Count())
	fmt.Fprintf(b.out, "  server memory per open stream: %.1f KiB Go heap+stacks (%.1f KiB of it stacks), %.1f KiB RSS\n\n",
		float64(grown.Go)/1024/float64(n), float64(grown.Stack)/1024/float64(n), float64(grown.RSS)/1024/float64(n))
	return nil
}

// streamClients is the child process holding the client ends of the
// event streams.
type streamClients struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	// displaced[i] gets the (wall clock) time stream i received "displaced".
	displaced []chan time.Time
	done      chan struct{}
}

const streamClientEnv = "KIOSKO_BENCH_STREAM_CLIENT"

// startStreamClients starts the child, which opens one stream per token,
// and returns once they are all open.
func startStreamClients(ctx context.Context, addr string, tokens []string) (*streamClients, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{"bench", "--stream-client"}
	if testing.Testing() { // go test: the test binary runs the client instead
		args = []string{"-test.run=^TestBenchTiny$"}
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), streamClientEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start stream client: %w", err)
	}
	c := &streamClients{cmd: cmd, stdin: stdin, displaced: make([]chan time.Time, len(tokens)), done: make(chan struct{})}
	for i := range c.displaced {
		c.displaced[i] = make(chan time.Time, 4)
	}
	go func() {
		w := bufio.NewWriter(stdin)
		fmt.Fprintln(w, addr)
		for _, t := range tokens {
			fmt.Fprintln(w, t)
		}
		fmt.Fprintln(w)
		w.Flush()
	}()
	ready := make(chan error, 1)
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 1 && f[0] == "open":
				ready <- nil
			case len(f) == 2 && f[0] == "error":
				ready <- errors.New(strings.TrimPrefix(sc.Text(), "error "))
			case len(f) == 3 && f[0] == "displaced":
				i, err1 := strconv.Atoi(f[1])
				ns, err2 := strconv.ParseInt(f[2], 10, 64)
				if err1 == nil && err2 == nil && i >= 0 && i < len(c.displaced) {
					select {
					case c.displaced[i] <- time.Unix(0, ns):
					default:
					}
				}
			}
		}
		ready <- errors.New("bench: the stream client ended")
	}()
	select {
	case err = <-ready:
	case <-time.After(5 * time.Minute):
		err = errors.New("bench: streams not open after 5 minutes")
	}
	if err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

func (c *streamClients) close() {
	c.stdin.Close() // the child closes its streams and exits
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
	}
	_ = c.cmd.Wait()
}

// benchStreamClient is the child's side: it reads the server's address and
// the tokens, one a line up to an empty line, opens a stream for each,
// says "open", then writes "displaced I UNIXNANO" for every displaced event
// until its standard input closes.
func benchStreamClient(stdin io.Reader, stdout io.Writer) error {
	sc := bufio.NewScanner(stdin)
	var addr string
	var tokens []string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if addr == "" {
			addr = line
			continue
		}
		if line == "" {
			break
		}
		tokens = append(tokens, line)
	}
	raiseFileLimit(len(tokens) + 256)
	streams, err := bench.OpenStreams(addr, tokens)
	if err != nil {
		fmt.Fprintf(stdout, "error %v\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return err
	}
	defer bench.CloseStreams(streams)
	var mu sync.Mutex
	w := bufio.NewWriter(stdout)
	fmt.Fprintln(w, "open")
	w.Flush()
	for i, s := range streams {
		go func() {
			for at := range s.Displaced {
				mu.Lock()
				fmt.Fprintf(w, "displaced %d %d\n", i, at.UnixNano())
				w.Flush()
				mu.Unlock()
			}
		}()
	}
	_, _ = io.Copy(io.Discard, stdin) // until the parent closes it
	return nil
}

func msStr(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// takeovers has device A of k readers claim the article, then a second
// device of each take it over, and times how long A's open stream takes to
// receive "displaced" after the takeover was sent.
func (b *benchRun) takeovers(ctx context.Context, s *benchServer, clients *streamClients, k int) (*bench.Histogram, error) {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()
	body := []byte(`{"article":"` + benchArticle + `"}`)
	post := func(path, token string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.m.URL()+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("bench: POST %s: %s", path, res.Status)
		}
		return nil
	}
	var (
		mu   sync.Mutex
		hist bench.Histogram
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make(chan error, 8)
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= k || ctx.Err() != nil {
					return
				}
				phone, err := s.signIn(ctx, i)
				if err == nil {
					err = post("/api/v1/reading/claim", s.readers[i].token)
				}
				if err != nil {
					errs <- err
					return
				}
				sent := time.Now()
				if err := post("/api/v1/reading/takeover", phone); err != nil {
					errs <- err
					return
				}
				select {
				case at := <-clients.displaced[i]:
					mu.Lock()
					hist.Record(at.Sub(sent))
					mu.Unlock()
				case <-time.After(10 * time.Second):
					errs <- fmt.Errorf("bench: reader %d: no displaced event within 10 s of the takeover", i)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return &hist, ctx.Err()
}
