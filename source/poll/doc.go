// Package poll collects posts from platform APIs on a schedule: Flickr's
// photos.search by each place's box, X's recent search by each place's box
// or circle (and free queries), and the Instagram Graph API for venues that
// connected their account (their own media, media they are tagged in,
// recent media of their hashtags), plus the media that mention a venue's
// account, which the Instagram webhook reports (Poller.Mentioned).
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
// # Instagram mentions
//
// The webhook only names a media that mentioned a venue's account; the
// media itself must be looked up in the Graph API
// (/{account}?fields=mentioned_media.media_id({media}){…}). Mentioned
// puts the mention in a bounded queue (InstagramConfig.MentionQueue,
// default 10,000) and returns at once, since Meta wants an answer within
// seconds; a full queue answers ETOOMANY, and Meta delivers again later.
// The Instagram runner's own goroutine does the lookups — before each
// target and while waiting for the next round — so they share the
// poller's client and its politeness: the request gap, backoff and every
// pause. The media is decoded for the venue whose account was mentioned
// and submitted like any page. A lookup that fails for good (Graph
// refuses it) is dropped; one that fails for now (retries used up, the
// sink refusing) is held for the next round, at most mentionAttempts
// rounds. Every drop is logged with its reason and counted.
//
// Comment mentions are refused (logged and counted): the media under the
// comment was posted by someone who did not mention the venue, and
// attributing it to the venue would place them there on another person's
// word.
//
// # Known limits
//
// Flickr indexes some photos for search minutes after their upload time;
// one that appears after the watermark passed it is not collected. Graph's
// tags edge lists by tagging time: an old media tagged late is older than
// the watermark and is not collected.
//
// Mentions live in memory. When Run stops, the mentions not yet fetched
// are saved with the cursors, Mentioned refuses from then on (so Meta
// delivers again, to the next process) and the next Run fetches the saved
// ones first. A crash loses the queue: Meta does not deliver a mention it
// was answered for again. Persisting every mention as it arrives would
// rewrite the cursor file, with an fsync, inside each webhook's answer.
package poll
