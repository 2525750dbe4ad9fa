package duckdb

import (
	"context"
	"sync"
)

// maxGroupPosts bounds the posts that one group commit writes: enough to
// merge the batches of every pipeline worker, few enough that a waiting
// batch is not held up behind a huge transaction.
const maxGroupPosts = 50_000

// upsertGroup queues UpsertPosts calls that wait for the writer, so that
// whichever gets the writer next writes all of them in one transaction
// (group commit). Concurrent pipeline workers then share the fixed cost of
// a transaction (a dozen statements and the WAL's fsync at commit) instead
// of queueing for it one by one.
type upsertGroup struct {
	mu    sync.Mutex // guards queue; taken without wmu
	queue []*upsertCall
}

// upsertCall is one UpsertPosts call's share of a group.
type upsertCall struct {
	staged []stagedPost
	// done and err are set, under wmu, by the call that wrote this one.
	done bool
	err  error
}

// enqueue adds a call to the queue.
func (g *upsertGroup) enqueue(c *upsertCall) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.queue = append(g.queue, c)
}

// take removes and returns the queued calls, oldest first, up to
// maxGroupPosts posts but at least one call; the caller holds wmu.
func (g *upsertGroup) take() []*upsertCall {
	g.mu.Lock()
	defer g.mu.Unlock()
	n, posts := 0, 0
	for n < len(g.queue) && (n == 0 || posts+len(g.queue[n].staged) <= maxGroupPosts) {
		posts += len(g.queue[n].staged)
		n++
	}
	calls := g.queue[:n:n]
	g.queue = g.queue[n:]
	return calls
}

// groupContext is the context a group's transaction runs under: the
// writing call's own when the group is that call alone; otherwise one
// without its cancellation, as other calls' batches must not fail because
// the writing caller went away.
func groupContext(ctx context.Context, own *upsertCall, calls []*upsertCall) context.Context {
	if len(calls) == 1 && calls[0] == own {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

// mergeStaged concatenates the calls' posts; of two copies of a post the
// later one wins, as within one batch.
func mergeStaged(calls []*upsertCall) []stagedPost {
	if len(calls) == 1 {
		return calls[0].staged
	}
	n := 0
	for _, c := range calls {
		n += len(c.staged)
	}
	last := make(map[int64]int, n)
	all := make([]stagedPost, 0, n)
	for _, c := range calls {
		for _, s := range c.staged {
			last[s.p.ID] = len(all)
			all = append(all, s)
		}
	}
	out := all[:0]
	for i, s := range all {
		if last[s.p.ID] == i {
			out = append(out, s)
		}
	}
	return out
}
