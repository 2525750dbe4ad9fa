package privacy

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/geopulse/geopulse"
)

// SubjectStore is what data-subject requests need of a store: the
// person's data (geopulse.SubjectStore) and the compliance machinery that
// removes it and keeps it out (geopulse.ComplianceStore).
type SubjectStore interface {
	geopulse.SubjectStore
	geopulse.ComplianceStore
	// AuthorProfile: the derived profile is part of what is stored about
	// the person.
	AuthorProfile(ctx context.Context, authorID int64) ([]geopulse.ProfileTerm, error)
}

// StreamPurger removes an account's raw copies from the stream and its dead
// letters (nats.Stream implements it). handleKey is a geopulse.HandleKey;
// either it or authorSourceID may be empty/zero.
type StreamPurger interface {
	PurgeAuthor(ctx context.Context, source, authorSourceID string, handleKey int64) (posts, deadLetters int, err error)
}

// Suppressor is an in-memory suppression list that must learn of a
// suppression at once, not at its next refresh (pipeline.Blocklist).
type Suppressor interface {
	Suppress(key int64, reason string)
}

// Subjects answers data-subject requests — access, erasure, objection — for
// a person named by a geopulse.SubjectRef. These are operator actions: the
// operator verifies who asks (a handle can change hands, and a request by
// handle acts on every stored account of the source that carries it now;
// Access shows which before anything is removed).
//
// What is removed, and where:
//   - the store: the accounts' posts, their place matches and hashtag rows,
//     the author cards and count histories (ApplyCompliance, user_delete);
//     per-author contributions to aggregates are computed from those rows
//     at query time, so they go with them;
//   - the stream (erasure only): the accounts' messages in POSTS and in
//     DEADLETTERS, overwritten (StreamPurger);
//   - media caches: geopulse keeps none yet (vision fetches, labels and
//     forgets). A cache added later must be emptied here, by the post ids
//     SubjectPosts lists before the store erasure, and counted in
//     ErasureReceipt.MediaRemoved.
//
// What stays: the suppression list (the keys, which is what keeps the
// person out), the compliance log's keyed record of the removal, and posts
// of other people that mention the person (theirs, not the person's).
// Below the tables, the stores free the removed rows' space without
// overwriting it: DuckDB's file keeps the bytes until the blocks are
// reused (a checkpoint does not clear them), PostgreSQL's pages until
// VACUUM reuses them, and backups keep what they hold. Forgetting at the
// byte level takes a rewrite (DuckDB: copy the database to a fresh file;
// PostgreSQL: VACUUM FULL) and the backups' own retention.
//
// Concurrency. The suppression comes first — in Blocklist, then in the
// store — so this process's gate refuses the person's posts before
// anything is removed; other processes learn of it at their next blocklist
// refresh. A post gated before that and stored after the removal is caught
// by a second pass after the stream purge; one stored by another process
// in its refresh window is not, and erasing again after that interval
// (the request is idempotent) removes it.
type Subjects struct {
	Store SubjectStore
	// Stream purges raw copies; nil skips the purge (no stream, as in
	// `geopulse import`). Mind Go's typed nil: leave the field unset
	// rather than assigning a nil *nats.Stream.
	Stream StreamPurger
	// Blocklist is the in-process gate's list; nil when no pipeline runs
	// in this process.
	Blocklist Suppressor
	// Now is the clock of reports and receipts; default time.Now.
	Now func() time.Time
	// Logger records each erasure and objection by keys (never a handle);
	// nil discards.
	Logger *slog.Logger
}

// Log keys.
const (
	logKeyAction   = "action"
	logKeySource   = "source"
	logKeyAccounts = "account_keys"
	logKeyPosts    = "posts_removed"
	logKeyStream   = "stream_removed"
	logKeyDead     = "dead_letters_removed"
)

func (s *Subjects) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Subjects) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Access returns everything stored about the person: each account's card,
// count history and suppressions, every post with its place matches (of
// any workspace) and what geopulse derived from it, and the suppressions
// of the reference itself. EINVALID for a bad reference. A person of whom
// nothing is stored gets an empty report, not ENOTFOUND.
//
// Raw copies of the same posts sit in the stream for its replay window
// (7 days by default) and in dead letters; the report does not list them
// (they hold nothing the posts do not).
func (s *Subjects) Access(ctx context.Context, ref geopulse.SubjectRef) (*geopulse.SubjectReport, error) {
	if err := ref.Validate(); err != nil {
		return nil, err
	}
	authors, err := s.Store.FindSubjectAuthors(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	rep := &geopulse.SubjectReport{Ref: ref, GeneratedAt: s.now(), Authors: []geopulse.SubjectAuthor{}, Posts: []geopulse.SubjectPost{}}
	for _, a := range authors {
		stats, err := s.Store.SubjectStats(ctx, a.ID)
		if err != nil {
			return nil, fmt.Errorf("access: %w", err)
		}
		reasons, err := s.Store.SuppressionReasons(ctx, geopulse.SuppressionKey(a.Source, a.SourceID))
		if err != nil {
			return nil, fmt.Errorf("access: %w", err)
		}
		sa := geopulse.NewSubjectAuthor(a, stats, reasons)
		if sa.Profile, err = s.Store.AuthorProfile(ctx, a.ID); err != nil {
			return nil, fmt.Errorf("access: %w", err)
		}
		rep.Authors = append(rep.Authors, sa)
		posts, err := s.Store.SubjectPosts(ctx, a.ID)
		if err != nil {
			return nil, fmt.Errorf("access: %w", err)
		}
		for _, p := range posts {
			rep.Posts = append(rep.Posts, geopulse.NewSubjectPost(p))
		}
	}
	if rep.Suppressed, err = s.Store.SuppressionReasons(ctx, ref.Key()); err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	return rep, nil
}

// Erase forgets the person: it suppresses every account and handle the
// reference leads to (reason objection): the reference's own, the stored
// accounts it names, their current handles. It removes their data from
// the store, and overwrites their messages in the stream and dead letters
// (Stream). A suppressed handle refuses whoever holds it later too; the
// operator lifts it (Unsuppress with the HandleKey) if it changes hands. A person of whom nothing is stored still has the reference's
// key suppressed, so their future posts are refused at the gate, and the
// stream is still purged by that key; the receipt then counts 0 removed.
//
// On an error the receipt, when not nil, counts what was done before it;
// the request is idempotent, so the operator repeats it.
func (s *Subjects) Erase(ctx context.Context, ref geopulse.SubjectRef) (*geopulse.ErasureReceipt, error) {
	return s.forget(ctx, ref, geopulse.SubjectErasure)
}

// Object stops all processing of the person: as Erase, but the raw copies
// in the stream and dead letters are left to age out (the replay window,
// 7 days; dead letters, 30) instead of being overwritten. They are never
// processed again: a replay or a redrive meets the suppression at the
// gate. Erasure is for "forget me"; objection for "stop", which costs no
// scan of the stream.
func (s *Subjects) Object(ctx context.Context, ref geopulse.SubjectRef) (*geopulse.ErasureReceipt, error) {
	return s.forget(ctx, ref, geopulse.SubjectObjection)
}

// subjectKeys are the accounts and handles a request leads to.
type subjectKeys struct {
	accounts []string // author source ids
	handles  []string // normalised handles
}

// keys collects the accounts and handles of ref: the stored accounts it
// names and their current handles, the reference's own handle, and its
// source id even when nothing is stored under it.
func keysOf(ref geopulse.SubjectRef, authors []geopulse.Author) subjectKeys {
	var k subjectKeys
	if ref.SourceID != "" {
		k.accounts = append(k.accounts, ref.SourceID)
	}
	if ref.Handle != "" {
		k.handles = append(k.handles, normHandle(ref.Handle))
	}
	for _, a := range authors {
		k.accounts = append(k.accounts, a.SourceID)
		if h := normHandle(a.Handle); h != "" {
			k.handles = append(k.handles, h)
		}
	}
	slices.Sort(k.accounts)
	slices.Sort(k.handles)
	k.accounts, k.handles = slices.Compact(k.accounts), slices.Compact(k.handles)
	return k
}

func normHandle(h string) string { return strings.ToLower(strings.TrimLeft(h, "@")) }

func (s *Subjects) forget(ctx context.Context, ref geopulse.SubjectRef, action string) (*geopulse.ErasureReceipt, error) {
	if err := ref.Validate(); err != nil {
		return nil, err
	}
	authors, err := s.Store.FindSubjectAuthors(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", action, err)
	}
	k := keysOf(ref, authors)
	rc := &geopulse.ErasureReceipt{Action: action, At: s.now(),
		Ref: geopulse.ReceiptRef{Source: ref.Source, AccountKeys: []int64{}, HandleKeys: []int64{}}}
	for _, id := range k.accounts {
		rc.Ref.AccountKeys = append(rc.Ref.AccountKeys, geopulse.SuppressionKey(ref.Source, id))
	}
	for _, h := range k.handles {
		rc.Ref.HandleKeys = append(rc.Ref.HandleKeys, geopulse.HandleKey(ref.Source, h))
	}

	// Keep the person out first, so nothing removed below comes back.
	for _, key := range append(slices.Clone(rc.Ref.AccountKeys), rc.Ref.HandleKeys...) {
		if s.Blocklist != nil {
			s.Blocklist.Suppress(key, geopulse.SuppressObjection)
		}
		if err := s.Store.Suppress(ctx, key, geopulse.SuppressObjection); err != nil {
			return rc, fmt.Errorf("%s: %w", action, err)
		}
	}
	rc.Suppressed = true

	// The store applies it as an account deletion (which also records
	// the accounts as suppressed for "deleted": lifting an objection later
	// means lifting both reasons).
	if err := s.removeStored(ctx, ref.Source, k.accounts, rc); err != nil {
		return rc, fmt.Errorf("%s: %w", action, err)
	}

	if action == geopulse.SubjectErasure && s.Stream != nil {
		// One scan per account and handle pair: usually one in all.
		for i := range max(len(k.accounts), len(k.handles)) {
			var (
				account string
				handle  int64
			)
			if i < len(k.accounts) {
				account = k.accounts[i]
			}
			if i < len(k.handles) {
				handle = rc.Ref.HandleKeys[i]
			}
			posts, dead, err := s.Stream.PurgeAuthor(ctx, ref.Source, account, handle)
			rc.StreamMessagesRemoved += posts
			rc.DeadLettersRemoved += dead
			if err != nil {
				return rc, fmt.Errorf("%s: purge stream: %w", action, err)
			}
		}
		// A post gated before the suppression may have been stored
		// during the purge: a second pass removes it.
		stored, err := s.storedAccounts(ctx, ref.Source, k.accounts)
		if err != nil {
			return rc, fmt.Errorf("%s: %w", action, err)
		}
		if err := s.removeStored(ctx, ref.Source, stored, rc); err != nil {
			return rc, fmt.Errorf("%s: %w", action, err)
		}
	}

	s.logger().Info("data subject request applied", logKeyAction, action, logKeySource, ref.Source,
		logKeyAccounts, rc.Ref.AccountKeys, logKeyPosts, rc.PostsRemoved,
		logKeyStream, rc.StreamMessagesRemoved, logKeyDead, rc.DeadLettersRemoved)
	return rc, nil
}

// removeStored applies an account deletion to each account and counts it.
func (s *Subjects) removeStored(ctx context.Context, source string, accounts []string, rc *geopulse.ErasureReceipt) error {
	for _, id := range accounts {
		res, err := s.Store.ApplyCompliance(ctx, geopulse.ComplianceEvent{
			Kind: geopulse.ComplianceDeleteAuthor, Source: source, AuthorSourceID: id, At: rc.At})
		if err != nil {
			return err
		}
		rc.PostsRemoved += res.PostsRemoved
		if res.AuthorRemoved {
			rc.AuthorsRemoved++
		}
	}
	return nil
}

// storedAccounts returns those of accounts that have a stored card.
func (s *Subjects) storedAccounts(ctx context.Context, source string, accounts []string) ([]string, error) {
	var out []string
	for _, id := range accounts {
		found, err := s.Store.FindSubjectAuthors(ctx, geopulse.SubjectRef{Source: source, SourceID: id})
		if err != nil {
			return nil, err
		}
		if len(found) > 0 {
			out = append(out, id)
		}
	}
	return out, nil
}
