package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/geopulse/geopulse"
)

const adminUsage = `Usage:

	geopulse admin create-workspace [flags] NAME   create a workspace and print its first (owner) API key
	geopulse admin create-key [flags] WORKSPACE    print a new API key for a workspace
	    --member NAME        whom the key belongs to ("ana@acme.com", "ingest-bot")
	    --role ROLE          owner, analyst or viewer (default owner)
	    --scopes a,b         narrow the role: read, posts:write, places:write, audiences:write, admin
	    --expires 720h       the key stops working after this long (default: never)
	geopulse admin list-keys [flags] WORKSPACE     the workspace's keys and members (no secrets)
	geopulse admin revoke-key [flags] WORKSPACE ID
	geopulse admin rotate-key [flags] WORKSPACE ID print a new key like key ID; ID keeps working for
	    --grace 24h          this long, then stops
	geopulse admin sensitive-categories [flags]  print the deny list of place categories (every workspace)
	    --add a,b            add categories ("amenity=clinic", or an OSM key alone: "healthcare")
	    --remove a,b         remove categories

Flags: -data DIR, -db DSN, -config FILE (as for serve). The embedded store is
a single-process file: stop 'geopulse serve' first, or use its demo key.
Keys are printed once, on stdout; nothing else ever shows them.
`

func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, adminUsage)
		return errUsage
	}
	sub, args := args[0], args[1:]
	cf := newConfigFlags("admin "+sub, stderr)
	member := cf.fs.String("member", "", "create-key: whom the key belongs to")
	role := cf.fs.String("role", string(geopulse.RoleOwner), "create-key: owner, analyst or viewer")
	scopes := cf.fs.String("scopes", "", "create-key: narrow the role (comma-separated)")
	expires := cf.fs.Duration("expires", 0, "create-key: lifetime of the key (0: never expires)")
	grace := cf.fs.Duration("grace", 24*time.Hour, "rotate-key: how long the old key keeps working")
	add := cf.fs.String("add", "", "sensitive-categories: categories to add (comma-separated)")
	remove := cf.fs.String("remove", "", "sensitive-categories: categories to remove (comma-separated)")
	cfg, err := cf.load(args, os.Getenv)
	if err != nil {
		return err
	}
	if sub == "sensitive-categories" {
		return sensitiveCategories(ctx, cfg, *add, *remove, stdout, stderr)
	}
	want := map[string]int{"create-workspace": 1, "create-key": 1, "list-keys": 1, "revoke-key": 2, "rotate-key": 2}
	n, known := want[sub]
	if !known {
		fmt.Fprint(stderr, adminUsage)
		return fmt.Errorf("unknown admin command %q: %w", sub, errUsage)
	}
	if cf.fs.NArg() != n || strings.TrimSpace(cf.fs.Arg(0)) == "" {
		fmt.Fprint(stderr, adminUsage)
		return fmt.Errorf("admin %s takes %d argument(s): %w", sub, n, errUsage)
	}
	name := strings.TrimSpace(cf.fs.Arg(0))
	var id int64
	if n == 2 {
		if id, err = strconv.ParseInt(cf.fs.Arg(1), 10, 64); err != nil || id <= 0 {
			return fmt.Errorf("admin %s: key ID %q is not a positive number: %w", sub, cf.fs.Arg(1), errUsage)
		}
	}

	store, err := openStore(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer store.Close()

	var ws *geopulse.Workspace
	if sub == "create-workspace" {
		ws = &geopulse.Workspace{Name: name}
		if err := store.CreateWorkspace(ctx, ws); err != nil {
			return fmt.Errorf("create workspace: %s", geopulse.ErrorMessage(err))
		}
	} else if ws, err = store.FindWorkspaceByName(ctx, name); err != nil {
		return fmt.Errorf("find workspace: %s", geopulse.ErrorMessage(err))
	}

	key := geopulse.NewAPIKey()
	switch sub {
	case "create-workspace":
		err = store.AddAPIKey(ctx, &geopulse.APIKey{WorkspaceID: ws.ID, Name: *member, Role: geopulse.RoleOwner,
			Prefix: geopulse.KeyPrefix(key)}, geopulse.HashAPIKey(key))
	case "create-key":
		k := &geopulse.APIKey{WorkspaceID: ws.ID, Name: *member, Role: geopulse.Role(*role), Prefix: geopulse.KeyPrefix(key),
			Scopes: geopulse.SplitScopes(*scopes)}
		if *expires < 0 {
			return fmt.Errorf("admin create-key: --expires must be positive: %w", errUsage)
		} else if *expires > 0 {
			at := time.Now().UTC().Add(*expires)
			k.ExpiresAt = &at
		}
		err = store.AddAPIKey(ctx, k, geopulse.HashAPIKey(key))
	case "rotate-key":
		if *grace < 0 {
			return fmt.Errorf("admin rotate-key: --grace must not be negative: %w", errUsage)
		}
		_, err = store.RotateAPIKey(ctx, ws.ID, id, geopulse.HashAPIKey(key), geopulse.KeyPrefix(key), *grace)
	case "revoke-key":
		if err := store.RevokeAPIKey(ctx, ws.ID, id); err != nil {
			return fmt.Errorf("revoke key %d: %s", id, geopulse.ErrorMessage(err))
		}
		fmt.Fprintf(stderr, "key %d of workspace %q revoked\n", id, ws.Name)
		return nil
	case "list-keys":
		return listKeys(ctx, store, ws, stdout)
	}
	if err != nil {
		return fmt.Errorf("%s: %s", sub, geopulse.ErrorMessage(err))
	}
	fmt.Fprintf(stderr, "workspace %q (id %d); API key, shown once:\n", ws.Name, ws.ID)
	fmt.Fprintln(stdout, key)
	return nil
}

func listKeys(ctx context.Context, store geopulse.Store, ws *geopulse.Workspace, stdout io.Writer) error {
	keys, err := store.ListAPIKeys(ctx, ws.ID)
	if err != nil {
		return fmt.Errorf("list keys: %s", geopulse.ErrorMessage(err))
	}
	now := time.Now()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPREFIX\tMEMBER\tROLE\tSCOPES\tCREATED\tEXPIRES\tSTATE")
	for _, k := range keys {
		scopes := cmp.Or(geopulse.JoinScopes(k.Scopes), "(role's)")
		expires, state := "never", "active"
		if k.ExpiresAt != nil {
			expires = k.ExpiresAt.UTC().Format(time.RFC3339)
		}
		switch {
		case k.RevokedAt != nil:
			state = "revoked"
		case !k.Active(now):
			state = "expired"
		}
		fmt.Fprintf(tw, "%d\t%s…\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Prefix, cmp.Or(k.Name, "(unnamed)"), k.Role, scopes,
			k.CreatedAt.UTC().Format(time.RFC3339), expires, state)
	}
	return tw.Flush()
}

// sensitiveCategories prints the deny list, after applying --add and
// --remove.
func sensitiveCategories(ctx context.Context, cfg Config, add, remove string, stdout, stderr io.Writer) error {
	store, err := openStore(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer store.Close()
	list, err := store.SensitiveCategories(ctx)
	if err != nil {
		return err
	}
	split := func(s string) []string {
		var out []string
		for _, v := range strings.Split(s, ",") {
			if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	if add != "" || remove != "" {
		drop := split(remove)
		list = slices.DeleteFunc(append(list, split(add)...), func(c string) bool { return slices.Contains(drop, c) })
		if err := store.SetSensitiveCategories(ctx, list); err != nil {
			return fmt.Errorf("sensitive categories: %s", geopulse.ErrorMessage(err))
		}
		if list, err = store.SensitiveCategories(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stderr, "deny list updated; profiles of authors at affected places are recomputed by the next refresh")
	}
	for _, c := range list {
		fmt.Fprintln(stdout, c)
	}
	return nil
}
