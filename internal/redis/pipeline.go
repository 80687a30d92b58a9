package redis

import (
	"context"
	"fmt"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Auto-pipelining of the hot path. Claims and heartbeats made at the same
// time on one engine go to Redis together: every call is queued, and a
// small flush loop sends everything waiting as one pipeline of EVALSHA
// (EVAL for those that meet NOSCRIPT), then hands each caller its own
// reply. One write and one read then serve many requests instead of one
// each. Each script stays one atomic step in Redis, so the reading rule per
// seat is exactly what it was; calls of one batch on one seat run in the
// order they were queued.
//
// A loop flushes as soon as it finds work and never waits for more, so an
// idle node pays no added latency (a lone call goes out as a plain
// EVALSHA, as it did before). Loops start on demand, at most maxFlushers at
// a time, each sending at most maxBatch calls per pipeline, and end when
// the queue is empty: the engine needs no Close. More than one loop keeps a
// Redis that hangs from holding every queued call behind one read timeout.
//
// A call that waited in the queue longer than maxQueueWait is failed with
// goredis.ErrPoolTimeout when a loop reaches it, as a call that waited
// that long for a connection of the pool was before: with Redis hanging,
// every call still fails within about maxQueueWait plus the read timeout,
// however many are queued.
const (
	maxBatch     = 128
	maxFlushers  = 2
	maxQueueWait = DefaultPoolTimeout
)

// claimCall is one queued claim or heartbeat.
type claimCall struct {
	ctx    context.Context
	key    string
	args   [7]any
	queued time.Time
	reply  claimReply
	err    error
	done   chan struct{}
}

// pipeliner gathers an engine's concurrent claim-script calls.
type pipeliner struct {
	client goredis.UniversalClient
	script *goredis.Script // claimScript, but for tests

	mu       sync.Mutex
	queue    []*claimCall
	flushers int // loops running
}

// do queues call and waits for its reply or for the end of its context,
// whichever comes first. A call whose context ended still goes out with
// its batch if the batch was already taken.
func (p *pipeliner) do(call *claimCall) (claimReply, error) {
	if err := call.ctx.Err(); err != nil {
		return claimReply{}, err
	}
	call.done = make(chan struct{})
	call.queued = time.Now()
	p.mu.Lock()
	p.queue = append(p.queue, call)
	start := p.flushers < maxFlushers
	if start {
		p.flushers++
	}
	p.mu.Unlock()
	if start {
		go p.loop()
	}
	select {
	case <-call.done:
		return call.reply, call.err
	case <-call.ctx.Done():
		select {
		case <-call.done:
			return call.reply, call.err
		default:
		}
		return claimReply{}, call.ctx.Err()
	}
}

// loop flushes the queue until it finds it empty.
func (p *pipeliner) loop() {
	var batch, stale []*claimCall
	for {
		p.mu.Lock()
		// The queue is in arrival order: calls that waited too long are
		// at its head.
		s := 0
		if len(p.queue) > 0 && time.Since(p.queue[0].queued) > maxQueueWait {
			now := time.Now()
			for s < len(p.queue) && now.Sub(p.queue[s].queued) > maxQueueWait {
				s++
			}
		}
		n := min(len(p.queue)-s, maxBatch)
		if s+n == 0 {
			p.flushers--
			p.mu.Unlock()
			return
		}
		stale = append(stale[:0], p.queue[:s]...)
		batch = append(batch[:0], p.queue[s:s+n]...)
		rest := copy(p.queue, p.queue[s+n:])
		clear(p.queue[rest:])
		p.queue = p.queue[:rest]
		p.mu.Unlock()
		for _, c := range stale {
			c.err = goredis.ErrPoolTimeout
			close(c.done)
		}
		clear(stale)
		if n > 0 {
			p.flush(batch)
		}
		clear(batch)
	}
}

// flush sends one batch and answers its callers. Calls whose callers have
// already given up are left out.
func (p *pipeliner) flush(batch []*claimCall) {
	live := batch[:0]
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			c.err = err
			close(c.done)
			continue
		}
		live = append(live, c)
	}
	if len(live) == 0 {
		return
	}
	// The batch is not any one caller's: it completes even if a caller's
	// context ends, bounded by the client's read and write timeouts.
	ctx := context.Background()
	if len(live) == 1 {
		c := live[0]
		c.reply, c.err = parseClaim(p.script.Run(ctx, p.client, []string{c.key}, c.args[:]...))
		close(c.done)
		return
	}
	cmds := make([]*goredis.Cmd, len(live))
	pipe := p.client.Pipeline()
	for i, c := range live {
		cmds[i] = pipe.EvalSha(ctx, p.script.Hash(), []string{c.key}, c.args[:]...)
	}
	execErr := runPipe(ctx, pipe)
	var again []int
	for i, cmd := range cmds {
		if isNoScript(cmd.Err()) {
			again = append(again, i)
		}
	}
	if len(again) > 0 {
		pipe = p.client.Pipeline()
		for _, i := range again {
			c := live[i]
			cmds[i] = p.script.Eval(ctx, pipe, []string{c.key}, c.args[:]...)
		}
		if err := runPipe(ctx, pipe); err != nil {
			execErr = err
		}
	}
	for i, c := range live {
		cmd := cmds[i]
		if cmd.Err() == nil && cmd.Val() == nil && execErr != nil {
			c.err = execErr // no reply at all: the pipeline itself failed
		} else {
			c.reply, c.err = parseClaim(cmd)
		}
		close(c.done)
	}
}

// runPipe sends a pipeline and returns the error that kept it from Redis,
// if any; replies that are errors stay on their commands.
func runPipe(ctx context.Context, pipe goredis.Pipeliner) error {
	_, err := pipe.Exec(ctx)
	if _, ok := err.(goredis.Error); ok {
		return nil // a command's own error reply
	}
	return err
}

func isNoScript(err error) bool {
	return err != nil && goredis.HasErrorPrefix(err, "NOSCRIPT")
}

// parseClaim reads claimScript's reply.
func parseClaim(cmd *goredis.Cmd) (claimReply, error) {
	v, err := cmd.Slice()
	if err != nil {
		return claimReply{}, err
	}
	if len(v) < 3 {
		return claimReply{}, fmt.Errorf("unexpected script reply %v", v)
	}
	var r claimReply
	g, _ := v[0].(int64)
	n, _ := v[1].(int64)
	r.granted, r.renewed = g == 1, n == 1
	r.lease, _ = v[2].(string)
	if len(v) > 3 {
		r.previous, _ = v[3].(string)
	}
	return r, nil
}
