// Package nats is geopulse's durable stream: NATS JetStream between every
// door posts come in by (the API, the demo, later importers and
// connectors) and the pipeline that stores them.
//
//	intake ─▶ Publisher ──▶ POSTS (geopulse.posts.<source>) ──▶ Worker ×N ─▶ pipeline ─▶ store
//	          gate, publish,      file storage, replay window     durable pull consumer
//	          wait for PubAck     ─ dead letters ─▶ DEADLETTERS    "workers", ack after commit
//
// It provides the embedded server (StartServer: what `geopulse serve` runs
// in process), the connection to an external cluster (Dial), stream and
// consumer setup (Open), the Publisher (a geopulse.Ingester), the Worker,
// dead letters (list, redrive, delete) and Replay.
//
// # Invariants
//
//   - Acknowledged means stored in POSTS. Publisher.Ingest answers a post
//     accepted only once its PubAck arrived; a post it could not publish
//     gets an error of its own (ETOOMANY for a full or briefly unavailable
//     stream, else EINTERNAL), never silence.
//   - A worker acknowledges a message only after the store committed its
//     post. A crash anywhere means redelivery, never loss; redelivery is
//     harmless because the store is idempotent on (source, source_id).
//   - Work is shared, never done twice concurrently: all workers of all
//     processes pull from the one durable consumer ConsumerWorkers.
//   - Nothing is dropped silently: a message that cannot be decoded, or
//     whose store write keeps failing, is copied to DEADLETTERS with its
//     error before it is terminated in POSTS.
//
// # Decisions
//
// Message body and id. The body is the post's canonical JSON
// (source/canonical), written after the synchronous gate check, so that a
// worker, a replay or a human reads the same schema as the API. The
// Nats-Msg-Id is the first 128 bits of the body's SHA-256: an exact resend
// within the Duplicates window (2 min) is stored once, while an edited
// post (new caption, new like count) is a new message that updates the
// stored post. 128 bits make an accidental collision — which would drop a
// distinct post as a "duplicate" — negligible. A post sent without
// observed_at gets the stream's timestamp at the worker, so the value is
// when geopulse received it, and a replay reproduces it.
//
// Retention. POSTS keeps messages for MaxAge (the replay window, 7 days)
// and at most MaxBytes (10 GiB), with DiscardNew: a full stream refuses
// new posts (intake answers 429) rather than silently dropping old ones
// that a worker may not have stored yet. Size MaxBytes for your rate times
// the window (at ~700 bytes a post, 10 GiB holds ~15M posts); DiscardOld is
// available when the replay window matters less than intake, and is then
// safe only while the lag limit keeps the backlog far below MaxBytes.
//
// Backpressure. Intake refuses a whole batch with ETOOMANY (429 with
// Retry-After) when the workers' lag (pending + unacknowledged messages of
// the consumer, sampled at most every 250 ms) exceeds MaxLag (1M), when the
// stream is full, or when it took none of the batch because it is briefly
// unavailable (a leader election). Async publishing is bounded (8,192
// PubAcks in flight per connection), so memory is bounded too.
//
// Redelivery and dead letters. The consumer has no server-side MaxDeliver:
// a message stuck at the server's limit while its worker died would be
// neither stored nor dead-lettered. Instead the worker counts deliveries
// (message metadata) and dead-letters a message on its MaxDeliver-th
// failed delivery (default 5, with backoff 1 s doubling to 30 s). When a
// whole batch fails for the first time the batch is retried as is (an
// outage is the likely cause); when it fails again it is split in halves
// until the poison message is alone, so the good posts land. A store
// outage longer than the backoff sequence therefore dead-letters posts;
// redrive them once the store is back. Dead letters hold other
// workspaces' data, so the API reaches them only with the admin token.
//
// Durability (fsync). By default JetStream's file store writes every
// message to the OS before the PubAck (single replica: flush in place),
// and fsyncs every 2 minutes. So `kill -9` of geopulse loses nothing
// acknowledged (the crash test in cmd/geopulse proves it); a power loss
// or kernel crash can lose up to the last sync interval. `nats_sync:
// always` fsyncs each write before the ack: an fsync per post, measured at
// ~800 posts/s against ~40–45k without (BenchmarkPublish, same disk), so
// it is for low-rate deployments that must survive power loss on one
// machine; in a cluster R3 the quorum's copies cover one machine's loss.
//
// Place changes. A worker process matches posts against its own in-memory
// place index, which a place written through another process (an api node)
// would leave stale. NotifyPlacesChanged / OnPlacesChanged carry a core
// NATS notice (at most once: a disconnected worker misses it) on which a
// worker reloads its index and re-matches the changed place against the
// store, catching posts it stored with the old index.
//
// Embedded server. `geopulse serve` runs nats-server in process with
// DontListen: no port is opened (nothing to secure) and the process
// talks to it over an in-process pipe. Measured against TCP loopback
// (BenchmarkPublish, BenchmarkPublishConsume) the two are within noise of
// each other on 2 cores, so the closed port wins. Its files live in <data>/nats, guarded by a file lock
// (Unix flock; elsewhere single use is the operator's duty), so a second
// process (replay, deadletters) fails clearly instead of corrupting it.
// `--nats URL` points every role at an external cluster instead.
package nats
