package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/bench"
	"github.com/kiosko/kiosko/internal/httpx"
)

// benchPageArticles is how many articles of each access level the pages
// part publishes; every connection walks through all of them, so no page
// is served twice in a row and the caches hold many keys, as on a site.
const benchPageArticles = 300

// pages measures the reader's pages against a bare handler that writes the
// very bytes kiosko answered, from memory, to the same requests over the
// same connections: the front page and open articles for anonymous
// readers, a free article for an anonymous reader whose meter cookie has
// articles left (the meter runs and its cookie is signed every time), and
// a subscriber article for signed-in readers on their own seats (the lease
// claimed every time).
func (b *benchRun) pages(ctx context.Context) error {
	o := b.o
	n := benchPageArticles
	if o.tiny {
		n = 12
	}
	s, err := b.startServer(ctx, "", o.connections)
	if err != nil {
		return err
	}
	defer s.close()
	if err := addBenchArticles(ctx, s, n); err != nil {
		return err
	}
	addr := s.m.Addr()
	fmt.Fprintf(b.out, "Article pages: %d connections, %v per run (after %v warm-up), %d articles of each access level, median of %d alternating rounds\n",
		o.connections, o.duration, o.warmup, n, o.rounds)

	meter, err := benchMeterCookie(addr, "/es/bench-free-0")
	if err != nil {
		return err
	}
	readerCookies := make([]string, len(s.readers))
	for i, r := range s.readers {
		if readerCookies[i], err = benchReaderCookie(addr, s.m.Deps.SessionCookieName(), r.token, "/es/bench-subscriber-0"); err != nil {
			return err
		}
	}
	type page struct {
		name  string
		paths []string
		// header is the request's own header lines for connection c.
		header func(c int) string
		gzip   bool // asks for gzip, as browsers do; the bare handler answers the same compressed bytes
	}
	anon := func(int) string { return "" }
	list := func(prefix string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("/es/%s-%d", prefix, i)
		}
		return out
	}
	cases := []page{
		{name: "front page, anonymous", paths: []string{"/es/", "/us/"}, header: anon},
		{name: "open article, anonymous", paths: list("bench-open"), header: anon},
		{name: "free article, anonymous with meter", paths: list("bench-free"), header: func(int) string { return "Cookie: " + meter + "\r\n" }},
		{name: "subscriber article, signed in, claim", paths: list("bench-subscriber"), header: func(c int) string { return "Cookie: " + readerCookies[c%len(readerCookies)] + "\r\n" }},
	}
	// The same with Accept-Encoding: gzip, as every browser sends it: a
	// page the same for everyone is kept gzipped, a signed-in reader's is
	// compressed for each view.
	for _, pc := range cases[:2] {
		pc.name += ", gzip"
		pc.gzip = true
		cases = append(cases, pc)
	}
	sub := cases[3]
	sub.name, sub.gzip = sub.name+", gzip", true
	cases = append(cases, sub)
	for i := range cases {
		if h := cases[i].header; cases[i].gzip {
			cases[i].header = func(c int) string { return h(c) + "Accept-Encoding: gzip\r\n" }
		}
	}
	var profile *os.File
	if o.cpuProfile != "" {
		if profile, err = os.Create(o.cpuProfile); err != nil {
			return err
		}
		defer profile.Close()
	}
	var pairs []bench.Pair
	for _, pc := range cases {
		// The bare handler answers each path with what kiosko answered it.
		bodies := map[string][]byte{}
		for _, p := range pc.paths {
			status, body, err := benchGet(addr, p, pc.header(0))
			if err != nil {
				return err
			}
			if status != http.StatusOK {
				return fmt.Errorf("bench: GET %s: status %d", p, status)
			}
			bodies[p] = body
		}
		bare, err := bench.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, ok := bodies[r.URL.Path]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			if pc.gzip {
				w.Header().Set("Content-Encoding", "gzip")
			}
			_, _ = w.Write(body)
		}))
		if err != nil {
			return err
		}
		requests := func(host string) func(c int) [][]byte {
			return func(c int) [][]byte {
				reqs := make([][]byte, len(pc.paths))
				for i := range pc.paths {
					// Each connection starts elsewhere in the list.
					p := pc.paths[(i+c*7)%len(pc.paths)]
					reqs[i] = []byte("GET " + p + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: kiosko-bench\r\nAccept: text/html\r\n" + pc.header(c) + "\r\n")
				}
				return reqs
			}
		}
		bareLoad := bench.Load{Name: "bare", Addr: bare.Addr, Connections: o.connections, Warmup: o.warmup, Duration: o.duration, Request: requests(bare.Addr)}
		load := bench.Load{Name: pc.name, Addr: addr, Connections: o.connections, Warmup: o.warmup, Duration: o.duration, Request: requests(addr)}
		var bares, kioskos []*bench.Result
		for round := 0; round < o.rounds; round++ {
			r, err := bench.Run(ctx, bareLoad)
			if err != nil {
				bare.Close()
				return err
			}
			bares = append(bares, r)
			profiled := profile != nil && round == 0 && (o.profiled == "memory" || strings.Contains(pc.name, o.profiled))
			if profiled {
				if err := pprof.StartCPUProfile(profile); err != nil {
					bare.Close()
					return err
				}
			}
			r, err = bench.Run(ctx, load)
			if profiled {
				pprof.StopCPUProfile()
				profile.Close()
				profile = nil
			}
			if err != nil {
				bare.Close()
				return err
			}
			kioskos = append(kioskos, r)
		}
		bare.Close()
		p := bench.MedianPair(bares, kioskos)
		if p.Kiosko.Errors > 0 || p.Bare.Errors > 0 {
			return fmt.Errorf("bench: %s: %d answers were not 200 (%v)", pc.name, p.Kiosko.Errors+p.Bare.Errors, p.Kiosko.Statuses)
		}
		pairs = append(pairs, p)
		runtime.GC()
	}
	bench.PrintPairs(b.out, pairs)
	fmt.Fprintln(b.out)
	return nil
}

// addBenchArticles publishes n open, n free and n subscriber articles in
// the es edition, each with a body of about 5 KB.
func addBenchArticles(ctx context.Context, s *benchServer, n int) error {
	now := time.Now().UTC()
	var para []string
	for i := range 12 {
		para = append(para, fmt.Sprintf("Párrafo %d del artículo de prueba: el consistorio aprobó ayer, tras una sesión de seis horas, el plan de movilidad que reordena el tráfico del centro y amplía las zonas peatonales.", i+1))
	}
	md, html := kiosko.ParagraphsBody(para)
	for _, access := range []string{kiosko.AccessOpen, kiosko.AccessFree, kiosko.AccessSubscriber} {
		for i := range n {
			a := &kiosko.Article{ID: fmt.Sprintf("bench-%s-%d", access, i), Edition: "es", Title: fmt.Sprintf("Artículo de prueba %d (%s)", i, access),
				Standfirst: "Un artículo del banco de pruebas, de un tamaño parecido al de una noticia real.", Authors: []string{"Redacción"},
				Section: "Local", Access: access, BodyMarkdown: md, BodyHTML: html, Status: kiosko.StatusPublished,
				PublishedAt: now.Add(-time.Duration(3*n-i) * time.Minute)}
			kiosko.ArticleDefaults(a)
			if err := s.m.Store.CreateArticle(ctx, a); err != nil {
				return fmt.Errorf("bench: create article: %w", err)
			}
		}
	}
	return nil
}

// benchGet sends one raw GET and returns the status and body.
func benchGet(addr, path, header string) (int, []byte, error) {
	res, err := benchDo(addr, path, header)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, body, err
}

func benchDo(addr, path, header string) (*http.Response, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUser-Agent: kiosko-bench\r\nAccept: text/html\r\nConnection: close\r\n" + header + "\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, err
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("bench: GET %s: %w", path, err)
	}
	body, err := io.ReadAll(res.Body)
	c.Close()
	res.Body = io.NopCloser(bytes.NewReader(body))
	return res, err
}

// benchMeterCookie is the meter cookie kiosko gives a browser that opened
// one free article: the reader has the rest of the month's meter left.
func benchMeterCookie(addr, path string) (string, error) {
	res, err := benchDo(addr, path, "")
	if err != nil {
		return "", err
	}
	for _, c := range res.Cookies() {
		if c.Name == httpx.MeterCookie {
			return c.Name + "=" + c.Value, nil
		}
	}
	return "", fmt.Errorf("bench: GET %s set no meter cookie", path)
}

var benchCookieMu sync.Mutex

// benchReaderCookie is the Cookie header of a signed-in browser: the
// session, and the device cookie kiosko gives it on its first page.
func benchReaderCookie(addr, sessionCookie, token, path string) (string, error) {
	benchCookieMu.Lock()
	defer benchCookieMu.Unlock()
	res, err := benchDo(addr, path, "Authorization: Bearer "+token+"\r\n")
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("bench: GET %s signed in: status %d", path, res.StatusCode)
	}
	parts := []string{sessionCookie + "=" + token}
	for _, c := range res.Cookies() {
		if c.Value != "" && c.Name != sessionCookie {
			parts = append(parts, c.Name+"="+c.Value)
		}
	}
	return strings.Join(parts, "; "), nil
}
