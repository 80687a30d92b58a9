package redis

import (
	"context"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kiosko/kiosko"
)

// ClaimScriptSHA lets benchmarks pipeline the claim script with EVALSHA.
func ClaimScriptSHA() string { return claimScript.Hash() }

// UseUnloadedClaimScript makes e's pipelined claims and heartbeats use a
// copy of the claim script that Redis has never seen, so their EVALSHA
// meets NOSCRIPT. Other engines are not affected.
func UseUnloadedClaimScript(e *LeaseEngine) {
	e.pipe.script = goredis.NewScript(claimSource + "\n-- " + strconv.FormatInt(time.Now().UnixNano(), 10))
}

// FlushBatch sends claims (not takeovers) to Redis as one batch of e's
// pipeliner, as its flush loop would, and returns whether each was granted.
func FlushBatch(ctx context.Context, e *LeaseEngine, claims []kiosko.LeaseClaim) ([]bool, []error) {
	calls := make([]*claimCall, len(claims))
	for i, c := range claims {
		calls[i] = &claimCall{ctx: ctx, key: e.leaseKey(c.Seat), done: make(chan struct{}),
			args: [7]any{c.Now.UnixMilli(), e.ttl, c.Device, truncateName(c.DeviceName), flag(c.Active), 0, e.slack}}
	}
	e.pipe.flush(calls)
	granted, errs := make([]bool, len(calls)), make([]error, len(calls))
	for i, c := range calls {
		<-c.done
		granted[i], errs[i] = c.reply.granted, c.err
	}
	return granted, errs
}
