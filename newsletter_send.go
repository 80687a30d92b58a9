package kiosko

// Sending an issue exactly once per subscriber.
//
// Every (issue, subscriber) pair has one row in the deliveries table, made
// before anything is sent, so no run can add a second message for anyone.
// A worker takes a batch of Settings.BatchSize due rows and moves them
// pending -> committing in one transaction before it sends the first of
// them; each row then goes -> sent on the server's 250 (queued, written
// with the worker's next batch). The server accepts a message only at the
// final "." of DATA, so a connection that dies earlier delivers nothing.
//
// So a crash (SIGKILL, power cut) leaves each row in one of three states:
//   - pending: nothing of it was sent; the next run sends it.
//   - sent: delivered, the next run leaves it alone.
//   - committing: the worker had the row in its batch. It may have been
//     accepted, still waiting for its turn, or had its dot on the wire
//     with no answer yet: SMTP has no way to ask "did you take message X?",
//     so nobody can tell. We choose at-most-once here: the next run marks
//     these rows unknown and does not resend them, and says how many there
//     were; `kiosko newsletter send --resend-unknown` sends them again if
//     the publisher prefers a rare duplicate to a rare gap. Resends carry
//     the same Message-ID, which lets many mailboxes fold a duplicate.
//
// The window is two batches per worker. A worker asks for its next
// batch's commit when it starts sending the current one (so the commit's
// latency overlaps with sending), and queues each message's "sent" as the
// server answers. The recorder writes its queue in order, so a worker's
// "sent" rows of batch k are written no later than the commit of batch
// k+2, which it asks for only once batch k is done. At any instant a
// worker therefore has at most two batches committing (the one it sends
// and the next), and a crash leaves at most 2 x Concurrency x BatchSize
// rows unknown: 2 x 8 x 16 = 256 by default, 1.3 % of a 20,000-address
// list. Some of those were delivered (the rows of a batch already
// accepted but not yet recorded); the others are the subscribers who miss
// the issue unless the operator resends with --resend-unknown. A run that
// stops on its own (SIGTERM, ctx) leaves none: it puts back to pending
// what it had committed but not sent. A smaller BatchSize shrinks the
// window at the cost of one transaction per batch; on PostgreSQL, where a
// commit waits for the disk, 16 is what lets 8 workers keep their
// connections busy.
//
// The database writes are grouped: a recorder goroutine takes every
// worker's "committing" and "sent" changes that are waiting and writes them
// in one transaction (group commit), so a run costs about one transaction
// per batch rather than two per message, and no transaction waits between
// a message's last byte and its dot.
//
// Deliveries are added in chunks of Settings.EnqueueChunk subscribers: the
// first before sending starts, the rest while it goes on.
//
// A second sender on the same issue (the scheduler and the CLI at once)
// waits on the issue's lock; even without it the pending -> committing
// step is conditional, so two senders can never both commit one row.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// SendOptions tune one run of SendIssue.
type SendOptions struct {
	// Progress, if set, is called after every delivery that ends (and once
	// at the start) with the issue's totals.
	Progress func(SendProgress)
	// ResendUnknown sends again the deliveries a crash left unknown.
	ResendUnknown bool
	// LockWait is how long to wait for another sender's lock; default
	// twice LockTTL.
	LockWait time.Duration
}

// SendProgress is how far an issue has gone.
type SendProgress struct {
	Total, Done  int
	Sent, Failed int // in this run
	Retries      int // temporary failures to be retried
}

// SendReport tells what one run of SendIssue did.
type SendReport struct {
	Issue       *Issue
	Enqueued    int // deliveries added in this run (new confirmed subscribers)
	Sent        int // messages accepted in this run
	Bounced     int // permanent refusals in this run: subscribers marked bounced
	Failed      int // given up after repeated temporary failures
	Retried     int // temporary failures retried
	Interrupted int // deliveries a crash left in the commit window, now unknown
	Resent      int // unknown deliveries put back to be sent (ResendUnknown)
	Skipped     int // subscribers that left before their turn
	Counts      DeliveryCounts
}

// SendIssue sends this week's issue of an edition to every confirmed
// subscriber that has not had it yet, with Settings.Concurrency messages in
// flight (the BulkMailer bounds the rate). Temporary failures are retried
// with backoff in the same run; the run ends when every delivery is done or
// ctx ends. Messages in flight when ctx ends are finished, not abandoned.
func (n *Newsletter) SendIssue(ctx context.Context, edition string, opt SendOptions) (*SendReport, error) {
	issue, ed, err := n.CurrentIssue(ctx, edition)
	if err != nil {
		return nil, err
	}
	arts, err := n.issueArticles(ctx, ed, issue)
	if err != nil {
		return nil, err
	}
	im, err := n.prepareIssue(ed, issue, arts)
	if err != nil {
		return nil, err
	}
	st := n.settings()
	rep := &SendReport{Issue: issue}
	owner := NewToken()
	if err := n.lock(ctx, issue, owner, opt.LockWait); err != nil {
		return nil, err
	}
	bg := context.WithoutCancel(ctx)
	defer func() {
		if err := n.Store.UnlockIssue(bg, issue.ID, owner); err != nil {
			n.log().Warn("newsletter: unlock issue", "issue", issue.ID, "err", err)
		}
	}()
	// Keep the lock while sending; losing it stops the run.
	run, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	go func() {
		t := time.NewTicker(st.LockTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-run.Done():
				return
			case <-t.C:
				now := n.now()
				ok, err := n.Store.LockIssue(bg, issue.ID, owner, now, now.Add(st.LockTTL))
				if err == nil && !ok {
					err = errIssueBusy
				}
				if err != nil {
					stop(fmt.Errorf("newsletter: lost the issue lock: %w", err))
					return
				}
			}
		}
	}()

	if rep.Interrupted, err = n.Store.InterruptedDeliveries(ctx, issue.ID); err != nil {
		return nil, fmt.Errorf("send: %w", err)
	}
	if rep.Interrupted > 0 {
		n.log().Warn("newsletter: deliveries interrupted in the commit window by an earlier run are marked unknown and not resent",
			"issue", issue.ID, "count", rep.Interrupted)
	}
	if opt.ResendUnknown {
		if rep.Resent, err = n.Store.ResendUnknownDeliveries(ctx, issue.ID); err != nil {
			return nil, fmt.Errorf("send: %w", err)
		}
	}
	// The first chunk of deliveries is added now, the rest while the
	// first are sent: on PostgreSQL adding 20,000 rows (with their foreign
	// key checks) takes as long as sending thousands of messages.
	enqueued, last, err := n.Store.EnqueueDeliveriesAfter(ctx, issue.ID, 0, st.EnqueueChunk, n.now())
	if err != nil {
		return nil, fmt.Errorf("send: %w", err)
	}
	rep.Enqueued = enqueued
	if rep.Skipped, err = n.Store.SkipDeliveries(ctx, issue.ID); err != nil {
		return nil, fmt.Errorf("send: %w", err)
	}
	counts, err := n.Store.CountDeliveries(ctx, issue.ID)
	if err != nil {
		return nil, fmt.Errorf("send: %w", err)
	}

	var mu sync.Mutex
	prog := SendProgress{Total: counts.Total(), Done: counts.Done()}
	report := func(f func()) {
		mu.Lock()
		defer mu.Unlock()
		f()
		if opt.Progress != nil {
			opt.Progress(prog)
		}
	}
	report(func() {})

	var fatal error
	var fatalOnce sync.Once
	setFatal := func(err error) { fatalOnce.Do(func() { fatal = err; stop(err) }) }

	enq := &enqueuer{more: make(chan struct{}, 1), done: make(chan struct{})}
	var enqWG sync.WaitGroup
	if last == 0 {
		close(enq.done)
	} else {
		enqWG.Go(func() {
			defer close(enq.done)
			for after := last; after != 0; {
				added, next, err := n.Store.EnqueueDeliveriesAfter(run, issue.ID, after, st.EnqueueChunk, n.now())
				after = next
				if err != nil {
					if run.Err() == nil {
						setFatal(fmt.Errorf("send: %w", err))
					}
					return
				}
				report(func() { rep.Enqueued += added; prog.Total += added })
				select {
				case enq.more <- struct{}{}:
				default:
				}
			}
		})
	}

	rec := newRecorder(n, bg, setFatal)
	work := make(chan job)
	var wg sync.WaitGroup
	for range st.Concurrency {
		wg.Go(func() {
			outcome := func(outcome string) {
				if n.OnDelivery != nil && outcome != "" {
					n.OnDelivery(outcome)
				}
				report(func() {
					switch outcome {
					case DeliverySent:
						rep.Sent++
						prog.Sent++
						prog.Done++
					case SubscriberBounced:
						rep.Bounced++
						prog.Failed++
						prog.Done++
					case DeliveryFailed:
						rep.Failed++
						prog.Failed++
						prog.Done++
					case DeliveryUnknown:
						prog.Done++
					case DeliveryPending:
						rep.Retried++
						prog.Retries++
					}
				})
			}
			// A worker asks for its next batch's commit before it sends
			// the current one, when the next is already there, so the
			// database's commit latency overlaps with sending.
			var cur, next *job
			for {
				if cur == nil {
					j, ok := <-work
					if !ok {
						return
					}
					cur = n.startBatch(run, &j, rec)
				}
				select {
				case j, ok := <-work:
					if ok {
						next = n.startBatch(run, &j, rec)
					}
				default:
				}
				if err := n.deliverBatch(run, im, cur, rec, outcome); err != nil {
					setFatal(err)
				}
				cur.done()
				cur, next = next, nil
			}
		})
	}

	err = n.dispatch(run, issue, work, rec, enq)
	close(work)
	wg.Wait()
	enqWG.Wait()
	rec.close()
	if fatal != nil {
		err = fatal
	}
	if rep.Counts, _ = n.Store.CountDeliveries(bg, issue.ID); err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return rep, err
}

// enqueuer tells dispatch that deliveries are still being added.
type enqueuer struct {
	more     chan struct{} // a chunk was added
	done     chan struct{} // every chunk was added, or adding failed
	finished bool          // dispatch saw done (dispatch's own)
}

// job is one batch of deliveries handed to a worker; done ends it for
// the pass.
type job struct {
	ds        []*Delivery
	done      func()
	committed <-chan recordReply // nil: not asked, the run is stopping
}

// startBatch asks for j's rows to be committed, unless the run is
// stopping.
func (n *Newsletter) startBatch(ctx context.Context, j *job, rec *recorder) *job {
	if ctx.Err() != nil {
		return j
	}
	ids := make([]int64, len(j.ds))
	for i, d := range j.ds {
		ids[i] = d.ID
	}
	j.committed = rec.commitAsync(ids)
	return j
}

// dispatch feeds due deliveries to the workers until none is left pending,
// sleeping until the next retry when only retries remain. Each pass walks
// the due rows in id order and waits for its messages to end before the
// next pass looks again, so no row is handed out twice at once.
func (n *Newsletter) dispatch(ctx context.Context, issue *Issue, work chan<- job, rec *recorder, enq *enqueuer) error {
	for {
		var pass sync.WaitGroup
		err := func() error {
			after := int64(0)
			for {
				if ctx.Err() != nil {
					return context.Cause(ctx)
				}
				batch, err := n.Store.FindDueDeliveries(ctx, issue.ID, n.now(), after, 500)
				if err != nil {
					if ctx.Err() != nil {
						return context.Cause(ctx)
					}
					return fmt.Errorf("send: %w", err)
				}
				if len(batch) == 0 {
					if enq.finished {
						return nil
					}
					// More rows are on their way: look again when they are
					// in, and once more after the last chunk.
					select {
					case <-enq.more:
					case <-enq.done:
						enq.finished = true
					case <-ctx.Done():
						return context.Cause(ctx)
					}
					continue
				}
				after = batch[len(batch)-1].ID
				size := n.settings().BatchSize
				for len(batch) > 0 {
					k := min(size, len(batch))
					ds := batch[:k:k]
					batch = batch[k:]
					pass.Add(1)
					select {
					case work <- job{ds: ds, done: pass.Done}:
					case <-ctx.Done():
						pass.Done()
						return context.Cause(ctx)
					}
				}
			}
		}()
		pass.Wait()
		if err != nil {
			return err
		}
		rec.flush()
		// Subscribers who left during the pass are never due: skip them.
		_, err = n.Store.SkipDeliveries(ctx, issue.ID)
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return fmt.Errorf("send: %w", err)
		}
		c, err := n.Store.CountDeliveries(ctx, issue.ID)
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return fmt.Errorf("send: %w", err)
		}
		if c.Pending == 0 {
			return nil
		}
		if wait := c.NextAttemptAt.Sub(n.now()); wait > 0 {
			select {
			case <-ctx.Done():
				return context.Cause(ctx)
			case <-time.After(min(wait, time.Minute)):
			}
		}
	}
}

// deliverBatch commits a batch of deliveries, then sends them one after
// the other, telling done each one's outcome: DeliverySent,
// SubscriberBounced, DeliveryFailed, DeliveryUnknown, DeliveryPending (to
// be retried) or "" (not sent: another sender has it, or the run stops).
// An error means the run cannot go on (the database failed).
func (n *Newsletter) deliverBatch(ctx context.Context, im *issueMail, j *job, rec *recorder, done func(string)) error {
	if j.committed == nil {
		return nil
	}
	rr := <-j.committed
	if rr.err != nil {
		return rr.err
	}
	ds, refused := j.ds, rr.refused
	for i, d := range ds {
		if slices.Contains(refused, d.ID) {
			done("") // another sender committed it
			continue
		}
		outcome, err := n.deliver(ctx, im, d, rec)
		if err != nil {
			// The rest of the batch was never sent: back to pending.
			n.release(ds[i+1:], refused)
			return err
		}
		done(outcome)
	}
	return nil
}

// release puts back to pending the committed rows of ds a stopping run
// did not send, so they are not left unknown.
func (n *Newsletter) release(ds []*Delivery, refused []int64) {
	bg := context.Background()
	for _, d := range ds {
		if slices.Contains(refused, d.ID) {
			continue
		}
		if err := n.Store.RetryDelivery(bg, d.ID, d.Attempts, d.NextAttemptAt, d.LastError); err != nil {
			n.log().Warn("newsletter: put an unsent delivery back to pending", "delivery", d.ID, "err", err)
		}
	}
}

// deliver sends one committed delivery and records the outcome (see
// deliverBatch). An error means the run cannot go on.
func (n *Newsletter) deliver(ctx context.Context, im *issueMail, d *Delivery, rec *recorder) (string, error) {
	st := n.settings()
	// Once the message is committing, the server's answer must be awaited
	// and recorded even if the run is being stopped: hence bg.
	bg := context.WithoutCancel(ctx)
	if ctx.Err() != nil {
		n.release([]*Delivery{d}, nil)
		return "", nil
	}
	dotted := false // the final "." went to the server
	err := n.Bulk.SendCommit(ctx, im.copyFor(d.Subscriber), func() error { dotted = true; return nil })
	now := n.now()
	var de *DeliveryError
	switch {
	case err == nil:
		rec.sent(d.ID)
		return DeliverySent, nil
	case !errors.As(err, &de):
		if dotted {
			// Cannot happen today (only DeliveryErrors follow the dot),
			// but a committed row must never go back to pending.
			return DeliveryUnknown, n.Store.MarkDeliveryUnknown(bg, d.ID, err.Error())
		}
		n.release([]*Delivery{d}, nil)
		if ctx.Err() != nil {
			return "", nil // stopped while waiting for a connection
		}
		return "", fmt.Errorf("send: %w", err)
	case dotted && de.Code == 0:
		// The connection broke between the dot and the answer.
		n.log().Warn("newsletter: no answer after the message was committed; not resending", "delivery", d.ID, "err", err)
		return DeliveryUnknown, n.Store.MarkDeliveryUnknown(bg, d.ID, err.Error())
	case de.Permanent:
		if err := n.Store.FailDelivery(bg, d.ID, d.Attempts+1, err.Error(), true, now); err != nil {
			return "", fmt.Errorf("send: record bounce: %w", err)
		}
		return SubscriberBounced, nil
	case d.Attempts+1 >= st.MaxAttempts:
		if err := n.Store.FailDelivery(bg, d.ID, d.Attempts+1, err.Error(), false, now); err != nil {
			return "", fmt.Errorf("send: record failure: %w", err)
		}
		return DeliveryFailed, nil
	default:
		if ctx.Err() != nil && !dotted {
			n.release([]*Delivery{d}, nil)
			return "", nil // stopped before the message went: still pending
		}
		next := now.Add(min(st.RetryAfter<<d.Attempts, time.Hour))
		if err := n.Store.RetryDelivery(bg, d.ID, d.Attempts+1, next, err.Error()); err != nil {
			return "", fmt.Errorf("send: record retry: %w", err)
		}
		return DeliveryPending, nil
	}
}

// lock takes the issue's send lock, waiting for another sender's to lapse.
func (n *Newsletter) lock(ctx context.Context, issue *Issue, owner string, wait time.Duration) error {
	st := n.settings()
	if wait <= 0 {
		wait = 2 * st.LockTTL
	}
	deadline := time.Now().Add(wait)
	logged := false
	for {
		now := n.now()
		ok, err := n.Store.LockIssue(ctx, issue.ID, owner, now, now.Add(st.LockTTL))
		if err != nil {
			return fmt.Errorf("send: lock issue: %w", err)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return &Error{Code: ECONFLICT, Key: "error.newsletter_busy", Message: "Another sender is sending this issue right now."}
		}
		if !logged {
			n.log().Info("newsletter: another sender holds this issue; waiting for it to finish or lapse", "issue", issue.ID, "edition", issue.Edition)
			logged = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// recorder writes the workers' "committing" and "sent" changes in group
// transactions (see the top of this file). A failed write is fatal to the
// run: fail stops it.
type recorder struct {
	n    *Newsletter
	ctx  context.Context // not cancelled with the run: answers must be recorded
	fail func(error)
	reqs chan recordReq
	done chan struct{}
}

// recordReq is one change: sent > 0 records a sent delivery, commit asks
// to move a batch to committing and waits on reply; flush only waits for
// what was queued before it to be written.
type recordReq struct {
	sent   int64
	commit []int64
	flush  bool
	reply  chan recordReply
}

type recordReply struct {
	refused []int64
	err     error
}

// maxRecordBatch bounds one transaction.
const maxRecordBatch = 1000

func newRecorder(n *Newsletter, ctx context.Context, fail func(error)) *recorder {
	r := &recorder{n: n, ctx: ctx, fail: fail, reqs: make(chan recordReq, 4*maxRecordBatch), done: make(chan struct{})}
	go r.run()
	return r
}

// commitAsync asks for a batch of deliveries to move to committing,
// together with whatever else is waiting; the answer names the ids
// another sender has.
func (r *recorder) commitAsync(ids []int64) <-chan recordReply {
	reply := make(chan recordReply, 1)
	r.reqs <- recordReq{commit: ids, reply: reply}
	return reply
}

// sent queues delivery id as sent; it is written with the next group.
func (r *recorder) sent(id int64) { r.reqs <- recordReq{sent: id} }

// flush waits until every change queued so far is written.
func (r *recorder) flush() {
	reply := make(chan recordReply, 1)
	r.reqs <- recordReq{flush: true, reply: reply}
	<-reply
}

// close writes what is left and stops the recorder; no call may follow.
func (r *recorder) close() {
	close(r.reqs)
	<-r.done
}

// How long the recorder holds a batch open for more changes. A worker
// waits for its commit, so a commit is written at once, with whatever
// queued while the previous transaction ran (group commit without a
// timer). A "sent" waits, for a commit to carry it.
const (
	commitLinger = 0
	sentLinger   = 5 * time.Millisecond
)

func (r *recorder) run() {
	defer close(r.done)
	batch := make([]recordReq, 0, maxRecordBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var deadline time.Time // when the open batch is written; zero: no batch
	open := true
	for open || len(batch) > 0 {
		if len(batch) == 0 {
			req, ok := <-r.reqs
			if !ok {
				return
			}
			batch = append(batch, req)
		} else {
			timer.Reset(time.Until(deadline))
			select {
			case req, ok := <-r.reqs:
				timer.Stop()
				if !ok {
					open = false
					deadline = time.Time{} // write what is left now
				} else {
					batch = append(batch, req)
				}
			case <-timer.C:
			}
		}
		last := batch[len(batch)-1]
		switch {
		case !open || last.flush || len(batch) >= maxRecordBatch:
			deadline = time.Time{}
		case last.commit != nil:
			if d := time.Now().Add(commitLinger); deadline.IsZero() || d.Before(deadline) {
				deadline = d
			}
		case len(batch) == 1:
			deadline = time.Now().Add(sentLinger)
		}
		if deadline.IsZero() || !time.Now().Before(deadline) {
			// What queued meanwhile joins this transaction.
			for drained := false; open && !drained && len(batch) < maxRecordBatch; {
				select {
				case req, ok := <-r.reqs:
					if !ok {
						open = false
					} else {
						batch = append(batch, req)
					}
				default:
					drained = true
				}
			}
			r.write(batch)
			batch, deadline = batch[:0], time.Time{}
		}
	}
}

func (r *recorder) write(batch []recordReq) {
	b := DeliveryBatch{SentAt: r.n.now()}
	for _, q := range batch {
		if q.sent > 0 {
			b.Sent = append(b.Sent, q.sent)
		}
		b.Commit = append(b.Commit, q.commit...)
	}
	var refused []int64
	var err error
	if len(b.Sent) > 0 || len(b.Commit) > 0 {
		refused, err = r.n.Store.RecordDeliveries(r.ctx, b)
	}
	if err != nil {
		err = fmt.Errorf("send: record deliveries: %w", err)
		if len(b.Sent) > 0 {
			// Accepted messages whose rows stay committing: the run must
			// stop, and the next one marks them unknown, never resends.
			r.fail(err)
		}
	}
	for _, q := range batch {
		if q.reply == nil {
			continue
		}
		rr := recordReply{err: err}
		if err == nil {
			for _, id := range q.commit {
				if slices.Contains(refused, id) {
					rr.refused = append(rr.refused, id)
				}
			}
		}
		q.reply <- rr
	}
}
