package nats_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	gpnats "github.com/geopulse/geopulse/nats"
	"github.com/geopulse/geopulse/pipeline"
)

// startCluster starts a 3-node JetStream cluster on loopback. Route ports
// are reserved first, so that every node can list all three routes (a
// JetStream cluster node refuses to start without any).
func startCluster(t *testing.T) []*gpnats.Server {
	t.Helper()
	var routes []string
	var ports []int
	for range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		ports = append(ports, port)
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", port))
	}
	nodes := make([]*gpnats.Server, 3)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range nodes {
		wg.Go(func() {
			nodes[i], errs[i] = gpnats.StartServer(gpnats.ServerOptions{
				Dir:     t.TempDir(),
				Name:    fmt.Sprintf("n%d", i+1),
				Host:    "127.0.0.1",
				Cluster: &gpnats.ClusterOptions{Name: "geopulse-test", Host: "127.0.0.1", Port: ports[i], Routes: routes},
			})
		})
	}
	wg.Wait()
	for i, n := range nodes {
		if n != nil {
			t.Cleanup(func() { n.Shutdown() })
		}
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
	}
	return nodes
}

func dialCluster(t *testing.T, nodes []*gpnats.Server, name string) *gpnats.Stream {
	t.Helper()
	var urls []string
	for _, n := range nodes {
		urls = append(urls, n.ClientURL())
	}
	nc, err := gpnats.Dial(strings.Join(urls, ","), name, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Open waits (bounded) for the cluster to elect its meta leader.
	s, err := gpnats.Open(context.Background(), nc, gpnats.Config{Replicas: 3, PublishTimeout: 3 * time.Second, AckWait: 5 * time.Second}, nil)
	if err != nil {
		nc.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestClusterLeaderLoss: an R3 stream on three nodes, two workers on one
// store, a client publishing through a Publisher. Mid-ingest the stream's
// leader node is shut down; the client retries what got errors, ingest
// resumes, and every acknowledged post is stored exactly once.
func TestClusterLeaderLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 3-node cluster")
	}
	nodes := startCluster(t)
	st := newStore(t, true)
	intake := dialCluster(t, nodes, "api")
	pub := gpnats.NewPublisher(intake, gpnats.PublisherOptions{Gate: pipeline.Gate{}, Now: clock})
	for i := range 2 {
		runWorker(t, dialCluster(t, nodes, fmt.Sprintf("worker-%d", i)), gpnats.WorkerOptions{Ingester: st.pl, Batch: 200})
	}

	const batches, size = 30, 100
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	acked := map[string]bool{}
	var retried int
	killed := ""
	for b := range batches {
		if b == batches/3 {
			killed = killLeader(t, ctx, intake, nodes)
		}
		todo := posts(fmt.Sprintf("c%d", b), size)
		for len(todo) > 0 {
			if ctx.Err() != nil {
				t.Fatalf("ingest did not resume: %d posts of batch %d left", len(todo), b)
			}
			errs, err := pub.Ingest(ctx, todo)
			if err != nil {
				if geopulse.ErrorCode(err) != geopulse.ETOOMANY {
					t.Fatalf("batch %d: %v", b, err)
				}
				retried += len(todo)
				time.Sleep(100 * time.Millisecond)
				continue
			}
			var again []*geopulse.Post
			for i, e := range errs {
				if e == nil {
					acked[todo[i].SourceID] = true
				} else {
					again = append(again, todo[i])
				}
			}
			if len(again) > 0 {
				retried += len(again)
				time.Sleep(100 * time.Millisecond)
			}
			todo = again
		}
	}
	if err := intake.WaitDrained(ctx); err != nil {
		t.Fatal(err)
	}
	stored := st.stored(t) // fails on a post stored twice
	for id := range acked {
		if stored[id] == nil {
			t.Errorf("acknowledged post %s is not stored", id)
		}
	}
	if len(stored) != len(acked) || len(acked) != batches*size {
		t.Fatalf("stored %d, acknowledged %d, sent %d", len(stored), len(acked), batches*size)
	}
	t.Logf("leader %s shut down mid-ingest; %d post sends retried", killed, retried)
}

// killLeader shuts down the node leading POSTS and returns its name.
func killLeader(t *testing.T, ctx context.Context, s *gpnats.Stream, nodes []*gpnats.Server) string {
	t.Helper()
	var leader string
	for leader == "" {
		st, err := s.Stats(ctx)
		if err == nil {
			leader = st.Leader
		}
		if ctx.Err() != nil {
			t.Fatal("no stream leader")
		}
	}
	var wg sync.WaitGroup
	for _, n := range nodes {
		if n.Name() == leader {
			wg.Go(func() { n.Shutdown() })
		}
	}
	wg.Wait()
	return leader
}
