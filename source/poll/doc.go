// Package poll collects posts from platform APIs on a schedule: Flickr's
// photos.search by each place's box, X's recent search by each place's box
// or circle (and free queries), and the Instagram Graph API for venues that
// connected their account (their own media, media they are tagged in,
// recent media of their hashtags; mentions come by webhook instead).
//
// A Poller serves one workspace. Each platform polls its targets in
// rounds; every page goes through an injected decoder (source/flickr,
// source/x, source/instagram, wired by cmd/geopulse) and then, as one
// batch, to a Sink (intake), and only after Submit returned nil does the
// target's cursor move past the page.
//
// # Invariants
//
//   - No gaps: a cursor moves only past pages the sink took. A failed
//     submit, a refused request, an unreadable page or a crash leaves the
//     cursor where it was, and the page is fetched again.
//   - No repeats across a clean restart: cursors are saved after every
//     page and a restart resumes where the last saved page ended (at most
//     the page in flight at a crash is sent twice, which is harmless since
//     writes are idempotent on (source, source_id)).
//   - Polite: at least RequestGap between a poller's requests; Retry-After
//     (seconds or date), X's x-rate-limit-remaining/-reset and Graph's
//     usage headers (pause at UsageThreshold, 90 %) hold every request of
//     the poller, not only the one that met the limit. 429, 5xx and
//     transport errors are retried with exponential backoff and full
//     jitter, capped; other 4xx skip the target for the round with the
//     platform's error. Nothing here evades a limit.
//   - Credentials come from the config or a secret file, are sent only to
//     the platform and never appear in logs or errors (X and Graph tokens
//     travel in a header; Flickr's key, which must be in the URL, is
//     scrubbed from any text that could quote it).
//   - Location is never logged: targets are named by place id.
//
// # Cursors
//
// The cursor of each target is what the platform lets one resume from
// exactly, decided from the page's envelope, never from the decoded
// posts (the decoder drops entries without a location; the cursor must
// still pass them):
//
//   - Flickr: a watermark on the upload time plus the ids uploaded in that
//     second (min_upload_date is inclusive). Photos are asked for oldest
//     first and every request starts again at the watermark, instead of
//     walking page numbers: a deletion mid-walk would shift the pages and
//     hide a photo, and Flickr stops a geo search at 4,000 results.
//   - X: since_id, plus the state of a run in progress (its newest id, and
//     the oldest taken so far). A run follows next_token; a resumed run
//     continues below until_id, as next_tokens do not outlive their run.
//     A since_id older than the 7-day search window is dropped (counted
//     as a gap) rather than sent, which X would refuse forever.
//   - Graph: the newest media time plus the ids in that second, and the
//     paging cursor of a run in progress. Edges are only roughly ordered,
//     so a run stops at a page with nothing new rather than at the first
//     old media. A stale paging cursor restarts the run (repeats, not
//     gaps). Hashtag ids are looked up once and kept with the cursors,
//     because each lookup counts against 30 hashtags a week.
//
// FileCursors keeps them in one JSON file, replaced atomically.
//
// # Known limits
//
// Flickr indexes some photos for search minutes after their upload time;
// one that appears after the watermark passed it is not collected. Graph's
// tags edge lists by tagging time: an old media tagged late is older than
// the watermark and is not collected.
package poll
