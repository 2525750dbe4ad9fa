package http_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	gphttp "github.com/geopulse/geopulse/http"
	"github.com/geopulse/geopulse/privacy"
	"github.com/geopulse/geopulse/source/formats"
	"github.com/geopulse/geopulse/source/instagram"
)

// The security suite walks the OpenAPI document (which TestOpenAPIRoutes
// and secDocMatchesRoutes keep equal to the route table), so an endpoint
// added to both is covered without editing this file. Only a new kind of
// path parameter or of {id} resource needs a line here, and the suite fails
// until it gets one.

// secDoc is the part of the OpenAPI document the suite reads, with the
// operations listed and their parameter $refs resolved.
type secDoc struct {
	Security   []map[string][]string                 `json:"security"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Parameters map[string]secParam        `json:"parameters"`
		Schemas    map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
	ops []secOp
}

type secOp struct {
	Method, Path string
	Security     *[]map[string][]string `json:"security"`
	Parameters   []secParam             `json:"parameters"`
	RequestBody  *struct {
		Content map[string]struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
}

type secParam struct {
	Ref      string          `json:"$ref"`
	Name     string          `json:"name"`
	In       string          `json:"in"`
	Required bool            `json:"required"`
	Schema   json.RawMessage `json:"schema"`
}

// secSchema is the part of a JSON schema the body sampler reads.
type secSchema struct {
	Ref        string                     `json:"$ref"`
	Type       any                        `json:"type"` // a string, or a list in OpenAPI 3.1
	Format     string                     `json:"format"`
	Enum       []any                      `json:"enum"`
	Const      any                        `json:"const"`
	Required   []string                   `json:"required"`
	Properties map[string]json.RawMessage `json:"properties"`
	Items      json.RawMessage            `json:"items"`
	MinItems   int                        `json:"minItems"`
}

// secAuth is how an operation authenticates its caller.
type secAuth int

const (
	authKey    secAuth = iota // a workspace API key: the document's default
	authAdmin                 // the operator's admin token
	authPublic                // nothing, or a signature of its own (webhooks)
)

func (op secOp) String() string { return op.Method + " " + op.Path }

func (op secOp) auth() secAuth {
	if op.Security == nil {
		return authKey
	}
	if len(*op.Security) == 0 {
		return authPublic
	}
	for _, req := range *op.Security {
		if _, ok := req["adminToken"]; ok {
			return authAdmin
		}
	}
	return authKey
}

// scope is the scope the operation's bearerAuth requirement names, if any.
func (op secOp) scope() string {
	if op.Security == nil {
		return ""
	}
	for _, req := range *op.Security {
		if sc := req["bearerAuth"]; len(sc) == 1 {
			return sc[0]
		}
	}
	return ""
}

// loadSecDoc reads openapi.json, the file the server embeds.
func loadSecDoc(t *testing.T) *secDoc {
	t.Helper()
	b, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	d := &secDoc{}
	if err := json.Unmarshal(b, d); err != nil {
		t.Fatal(err)
	}
	// An operation without security of its own inherits the document's:
	// without one, every such operation would be public.
	if len(d.Security) == 0 {
		t.Fatal("the document declares no default security")
	}
	resolve := func(ps []secParam) []secParam {
		for i, p := range ps {
			if p.Ref == "" {
				continue
			}
			r, ok := d.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
			if !ok {
				t.Fatalf("parameter %s does not resolve", p.Ref)
			}
			ps[i] = r
		}
		return ps
	}
	methods := []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}
	for path, item := range d.Paths {
		var shared []secParam
		if raw, ok := item["parameters"]; ok {
			if err := json.Unmarshal(raw, &shared); err != nil {
				t.Fatalf("%s parameters: %v", path, err)
			}
		}
		for method, raw := range item {
			if !slices.Contains(methods, method) {
				continue
			}
			var op secOp
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			op.Method, op.Path = strings.ToUpper(method), path
			op.Parameters = resolve(append(slices.Clone(shared), op.Parameters...))
			d.ops = append(d.ops, op)
		}
	}
	slices.SortFunc(d.ops, func(a, b secOp) int { return strings.Compare(a.String(), b.String()) })
	if len(d.ops) == 0 {
		t.Fatal("the document has no operations")
	}
	return d
}

// secDocMatchesRoutes requires the document and the route table to list the
// same operations with the same kind of authentication: the suite's
// coverage rests on it.
func secDocMatchesRoutes(t *testing.T, d *secDoc) {
	t.Helper()
	routes := map[string]gphttp.Route{}
	for _, rt := range gphttp.Routes(&gphttp.Server{}) {
		routes[rt.Method+" "+rt.Pattern] = rt
	}
	for _, op := range d.ops {
		rt, ok := routes[op.String()]
		if !ok {
			t.Errorf("document has %s, which no route serves", op)
			continue
		}
		delete(routes, op.String())
		if (op.auth() == authPublic) != rt.Public {
			t.Errorf("%s: public in document = %v, in routes = %v", op, op.auth() == authPublic, rt.Public)
		}
		if got := op.scope(); got != rt.Scope {
			t.Errorf("%s: scope in document = %q, in routes = %q", op, got, rt.Scope)
		}
		// The server picks the admin token by path prefix.
		if (op.auth() == authAdmin) != strings.HasPrefix(rt.Pattern, "/v1/admin/") {
			t.Errorf("%s: the document's admin security disagrees with the path", op)
		}
	}
	for k := range routes {
		t.Errorf("route %s is missing from the document", k)
	}
}

// schema returns the schema raw refers to, following $refs.
func (d *secDoc) schema(t *testing.T, raw json.RawMessage) secSchema {
	t.Helper()
	for range 10 {
		var s secSchema
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatalf("schema %s: %v", raw, err)
		}
		if s.Ref == "" {
			return s
		}
		var ok bool
		if raw, ok = d.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]; !ok {
			t.Fatalf("schema %s does not resolve", s.Ref)
		}
	}
	t.Fatalf("schema $refs loop: %s", raw)
	return secSchema{}
}

// sample returns a minimal value of the schema: the required members of
// objects, the least number of array items, and plausible scalars.
func (d *secDoc) sample(t *testing.T, raw json.RawMessage, depth int) any {
	t.Helper()
	s := d.schema(t, raw)
	if depth > 8 {
		return nil
	}
	switch {
	case s.Const != nil:
		return s.Const
	case len(s.Enum) > 0:
		return s.Enum[0]
	}
	typ, _ := s.Type.(string)
	if list, ok := s.Type.([]any); ok && len(list) > 0 {
		typ, _ = list[0].(string)
	}
	switch typ {
	case "array":
		items := []any{}
		n := max(s.MinItems, 1)
		for range n {
			items = append(items, d.sample(t, s.Items, depth+1))
		}
		return items
	case "string":
		if s.Format == "date-time" {
			return now.Add(-time.Hour).Format(time.RFC3339)
		}
		return "x"
	case "integer", "number":
		return 1
	case "boolean":
		return true
	}
	m := map[string]any{}
	for _, name := range s.Required {
		m[name] = d.sample(t, s.Properties[name], depth+1)
	}
	return m
}

// body returns a minimal valid body of op and its media type (JSON when
// the operation takes it), or nil.
func (d *secDoc) body(t *testing.T, op secOp) ([]byte, string) {
	t.Helper()
	if op.RequestBody == nil {
		return nil, ""
	}
	types := slices.Sorted(maps.Keys(op.RequestBody.Content))
	if len(types) == 0 {
		t.Fatalf("%s: a request body without content", op)
	}
	ct := types[0]
	if slices.Contains(types, "application/json") {
		ct = "application/json"
	}
	b, err := json.Marshal(d.sample(t, op.RequestBody.Content[ct].Schema, 0))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(ct, "ndjson") {
		b = append(b, '\n')
	}
	return b, ct
}

var secWildcard = regexp.MustCompile(`\{[^}]*\}`)

// fillPath replaces the path's wildcards with vals.
func fillPath(t *testing.T, path string, vals map[string]string) string {
	t.Helper()
	return secWildcard.ReplaceAllStringFunc(path, func(w string) string {
		name := strings.Trim(w, "{}")
		v, ok := vals[name]
		if !ok {
			t.Errorf("%s: no sample value for path parameter %q; add one to the security suite", path, name)
			return "1"
		}
		return url.PathEscape(v)
	})
}

// idResource is the collection an {id} path names ("places" in
// /v1/places/{id}), or "" when the path has no {id}.
func idResource(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if p == "{id}" && i > 0 {
			return parts[i-1]
		}
	}
	return ""
}

// wantRefusal checks that res refuses with one of statuses and the API's
// JSON error shape (and, for 401, a challenge).
func wantRefusal(t *testing.T, label string, res response, statuses ...int) {
	t.Helper()
	if !slices.Contains(statuses, res.status) {
		t.Errorf("%s: status %d, want one of %v; body %.300s", label, res.status, statuses, res.body)
		return
	}
	var e apiError
	if err := json.Unmarshal(res.body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Errorf("%s: status %d without a JSON error: %.300s", label, res.status, res.body)
	}
	if res.status == http.StatusUnauthorized && res.header.Get("WWW-Authenticate") == "" {
		t.Errorf("%s: 401 without WWW-Authenticate", label)
	}
}

// TestEveryEndpointNeedsCredentials: every operation of the OpenAPI document
// refuses a caller without valid credentials, the admin routes take only
// the admin token, the webhooks refuse unsigned and badly signed
// deliveries, and a workspace's resources are invisible (404, not 403) to
// another workspace's key.
func TestEveryEndpointNeedsCredentials(t *testing.T) {
	const adminToken = "admin-token-of-the-security-suite"
	e := newEnv(t, func(s *gphttp.Server) {
		s.AdminToken = adminToken
		s.Hooks = map[string]gphttp.Hook{"partner": {Secret: "partner-secret", Format: formats.Canonical}}
		s.Instagram = &gphttp.InstagramHook{AppSecret: "app-secret", VerifyToken: "verify-token"}
	})
	d := loadSecDoc(t)
	secDocMatchesRoutes(t, d)

	owner, other := e.workspace("owner"), e.workspace("other")
	venue := e.createVenue(owner, "owner's venue", louvre)
	e.ingest(owner, influencer(newPost("owned", louvre, 1)))
	var f feed
	e.get(owner, "/v1/posts").decode(t, http.StatusOK, &f)
	if len(f.Posts) != 1 {
		t.Fatalf("owner sees %d posts, want 1", len(f.Posts))
	}
	// ownIDs are ids of the owner's resources by collection: the
	// credential checks use real ones, so a missing check would answer 200.
	ownIDs := map[string]string{
		"keys":      strconv.FormatInt(e.addKey(owner, geopulse.APIKey{Name: "victim", Role: geopulse.RoleViewer}).ID, 10),
		"places":    strconv.FormatInt(venue.ID, 10),
		"posts":     f.Posts[0].ID,
		"authors":   f.Posts[0].Author.ID,
		"audiences": e.createAudience(owner, "mine"),
	}
	pathVals := func(op secOp) map[string]string {
		vals := map[string]string{"name": "partner", "op": "access"} // the configured hook; a data-subject request
		if res := idResource(op.Path); res != "" {
			id, ok := ownIDs[res]
			if !ok {
				t.Errorf("%s: no id of a %q resource; add one to ownIDs", op, res)
				id = "1"
			}
			vals["id"] = id
		}
		return vals
	}
	// openPublic are the public operations that answer anyone; every other
	// public operation is a webhook and must refuse what is not signed.
	openPublic := map[string]bool{"GET /healthz": true, "GET /readyz": true, "GET /v1/openapi.json": true, "GET /privacy": true}

	// Credentials, most of them wrong everywhere. keyOK and adminOK mark
	// the right one of workspace and of admin routes; on an admin route a
	// wrong bearer token is unauthenticated (401), not forbidden.
	refusals := []struct {
		name                        string
		header                      map[string]string
		query                       string
		keyOK, adminOK, wrongBearer bool
	}{
		{name: "no credentials"},
		{name: "unknown key", header: map[string]string{"Authorization": "Bearer gp_" + strings.Repeat("0", 43)}, wrongBearer: true},
		{name: "valid key, wrong scheme", header: map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(owner+":"))}},
		{name: "key in the query", query: "?api_key=" + url.QueryEscape(owner) + "&access_token=" + url.QueryEscape(adminToken)},
		{name: "forged session cookie", header: map[string]string{"Cookie": "gp_session=" + strings.Repeat("A", 43)}},
		{name: "a workspace key", header: map[string]string{"Authorization": "Bearer " + owner}, keyOK: true, wrongBearer: true},
		{name: "the admin token", header: map[string]string{"Authorization": "Bearer " + adminToken}, adminOK: true},
	}

	for _, op := range d.ops {
		t.Run(op.String(), func(t *testing.T) {
			path := fillPath(t, op.Path, pathVals(op))
			body, ct := d.body(t, op)
			send := func(path string, header map[string]string) response {
				h := map[string]string{}
				if ct != "" {
					h["Content-Type"] = ct
				}
				maps.Copy(h, header)
				return e.do(request{method: op.Method, path: path, body: body, header: h})
			}

			switch op.auth() {
			case authPublic:
				if openPublic[op.String()] {
					if res := send(path, nil); res.status != http.StatusOK {
						t.Errorf("open endpoint: status %d", res.status)
					}
					return
				}
				// Unsigned, then with every parameter the document
				// requires (signature headers, handshake token) present
				// but wrong.
				wantRefusal(t, "unsigned", send(path, nil), 401, 403, 404)
				q, h := url.Values{}, map[string]string{}
				for _, p := range op.Parameters {
					if !p.Required {
						continue
					}
					v := "sha256=" + strings.Repeat("0", 64)
					if strings.Contains(strings.ToLower(p.Name), "timestamp") {
						v = strconv.FormatInt(now.Unix(), 10) // fresh, so only the signature is wrong
					}
					switch p.In {
					case "header":
						h[p.Name] = v
					case "query":
						if s, ok := d.sample(t, p.Schema, 0).(string); ok && s != "x" {
							v = s // an enum's value, such as hub.mode=subscribe
						}
						q.Set(p.Name, v)
					}
				}
				signed := path
				if len(q) > 0 {
					signed += "?" + q.Encode()
				}
				wantRefusal(t, "badly signed", send(signed, h), 401, 403, 404)
				return

			case authAdmin:
				for _, r := range refusals {
					switch {
					case r.adminOK:
					case r.wrongBearer:
						wantRefusal(t, r.name, send(path+r.query, r.header), 401)
					default:
						wantRefusal(t, r.name, send(path+r.query, r.header), 401, 403)
					}
				}
				return
			}

			for _, r := range refusals {
				if !r.keyOK {
					wantRefusal(t, r.name, send(path+r.query, r.header), 401)
				}
			}
			if idResource(op.Path) == "" {
				return
			}
			// Another workspace learns nothing, not even that the id
			// exists: the answer is the one of an id that does not.
			res := send(path, map[string]string{"Authorization": "Bearer " + other})
			wantRefusal(t, "another workspace's key", res, 404)
			var refusal apiError
			if json.Unmarshal(res.body, &refusal) == nil && refusal.Error.Code != geopulse.ENOTFOUND {
				t.Errorf("another workspace's key: code %q, want %q", refusal.Error.Code, geopulse.ENOTFOUND)
			}
			if op.Method == http.MethodGet {
				if res := send(path, map[string]string{"Authorization": "Bearer " + owner}); res.status != http.StatusOK {
					t.Errorf("the owner's own %s: status %d, so the 404 above proves nothing", path, res.status)
				}
			}
		})
	}

	// The refused writes (PATCH, DELETE of the owner's place…) changed nothing.
	var p place
	e.get(owner, "/v1/places/"+ownIDs["places"]).decode(t, http.StatusOK, &p)
	if p.Name != "owner's venue" {
		t.Errorf("the owner's place is now %q", p.Name)
	}
	e.get(owner, "/v1/posts/"+ownIDs["posts"]).decode(t, http.StatusOK, nil)
}

// secLeakMarkers are fragments of store and runtime errors that must never
// reach a client. None of the injected values contains one, so an echo of
// the input cannot trigger them.
var secLeakMarkers = []string{
	"duckdb", "binder error", "parser error", "catalog error", "conversion error",
	"sqlstate", "pq:", "sql:", "database/sql", "panic", "goroutine", "runtime error",
	"127.0.0.1", "i/o timeout",
}

// checkFilterAnswer requires a 200 without the victim's data or a 400 with
// a JSON error, and no internal detail in either.
func checkFilterAnswer(t *testing.T, label string, res response) {
	t.Helper()
	low := strings.ToLower(string(res.body))
	for _, m := range secLeakMarkers {
		if strings.Contains(low, m) {
			t.Errorf("%s: status %d leaks %q: %.300s", label, res.status, m, res.body)
		}
	}
	switch res.status {
	case http.StatusOK:
		if strings.Contains(low, "victim") {
			t.Errorf("%s: another workspace's data: %.300s", label, res.body)
		}
	case http.StatusBadRequest:
		var e apiError
		if err := json.Unmarshal(res.body, &e); err != nil || e.Error.Code != geopulse.EINVALID || e.Error.Message == "" {
			t.Errorf("%s: 400 without a JSON error: %.300s", label, res.body)
		}
		if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: 400 with Content-Type %q", label, ct)
		}
	default:
		t.Errorf("%s: status %d, want 200 or 400; body %.300s", label, res.status, res.body)
	}
}

// rawCursor is a feed cursor as the stores encode it (base64url of taken_at
// in Unix microseconds and the post id), with chosen fields.
func rawCursor(micros uint64, id uint64) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], micros)
	binary.BigEndian.PutUint64(b[8:], id)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// TestInjectionInFilters: hostile values in every filter parameter and body
// member of the feed, the search, the analytics and the place list are
// answered 200 (with nothing of another workspace) or 400, never 500, leak
// no internals, and leave the store as it was.
func TestInjectionInFilters(t *testing.T) {
	e := newEnv(t)
	victim, attacker := e.workspace("victim"), e.workspace("attacker")
	vp := e.createVenue(victim, "victim venue", louvre, "victim group")
	e.createVenue(attacker, "attacker venue", eiffel, "mine")
	e.ingest(victim, newPost("victim-1", louvre, 1), newPost("victim-2", louvre, 30))
	e.ingest(attacker, newPost("attacker-1", eiffel, 2), newPost("attacker-2", eiffel, 50))
	var before feed
	e.get(victim, "/v1/posts").decode(t, http.StatusOK, &before)
	if len(before.Posts) != 2 {
		t.Fatalf("victim sees %d posts, want 2", len(before.Posts))
	}

	polygon := func(coords string) string { return `{"type":"Polygon","coordinates":[[` + coords + `]]}` }
	values := []struct{ name, v string }{
		{"quote", `'`},
		{"or true", `' OR '1'='1`},
		{"stacked statement", `1; DROP TABLE posts; --`},
		{"union", `0 UNION SELECT id, caption FROM posts --`},
		{"comment", `1/**/OR/**/1=1`},
		{"double quote", `x" OR "1"="1`},
		{"like wildcards", `%_%`},
		{"backslash", `\`},
		{"json breaker", `"}]}`},
		{"broken json", `{"type":`},
		{"json with extra member", `{"type":"Polygon","coordinates":[[[2.33,48.85],[2.34,48.85],[2.34,48.87],[2.33,48.85]]],"x":"' OR 1=1"}`},
		{"world polygon", polygon(`[-180,-90],[180,-90],[180,90],[-180,90],[-180,-90]`)},
		{"extreme polygon", polygon(`[1e308,1e308],[-1e308,1e308],[0,-1e308],[1e308,1e308]`)},
		{"huge integer", "99999999999999999999999999999"},
		{"max int64", strconv.FormatInt(math.MaxInt64, 10)},
		{"min int64", strconv.FormatInt(math.MinInt64, 10)},
		{"huge float", "1e308"},
		{"float overflow", "1e309"},
		{"NaN", "NaN"},
		{"Inf", "Inf"},
		{"-Infinity", "-Infinity"},
		{"negative", "-1"},
		{"zero", "0"},
		{"fraction", "0.5"},
		{"hex", "0x10"},
		{"number pairs", "1e308,1e308"},
		{"bbox of the world", "-180,-90,180,90"},
		{"bbox reversed", "181,91,-181,-91"},
		{"invalid UTF-8", "\xff\xfe\xfd"},
		{"null byte", "photo\x00' OR 1=1"},
		{"CRLF", "a\r\nX-Injected: 1"},
		{"very long", strings.Repeat("9", 32<<10)},
		{"many ids", strings.Repeat("1,", 5000) + "1"},
		{"another workspace's place", strconv.FormatInt(vp.ID, 10)},
		{"far future", "9999-12-31T23:59:59Z"},
		{"year zero", "0000-01-01T00:00:00Z"},
		{"cursor at max time", rawCursor(math.MaxInt64, 1)},
		{"cursor before year 1", rawCursor(1<<63, 1)},
		{"cursor with negative id", rawCursor(uint64(now.UnixMicro()), math.MaxUint64)},
		{"cursor with zero id", rawCursor(uint64(now.UnixMicro()), 0)},
	}

	d := loadSecDoc(t)
	ops := map[string]secOp{}
	for _, op := range d.ops {
		ops[op.String()] = op
	}
	n := 0
	for _, k := range []string{"GET /v1/posts", "GET /v1/analytics", "GET /v1/places"} {
		op, ok := ops[k]
		if !ok {
			t.Fatalf("%s is not in the document", k)
		}
		var params []string
		for _, p := range op.Parameters {
			if p.In == "query" {
				params = append(params, p.Name)
			}
		}
		if len(params) == 0 {
			t.Fatalf("%s: no query parameters in the document", k)
		}
		for _, p := range params {
			for _, v := range values {
				res := e.get(attacker, op.Path+"?"+url.QueryEscape(p)+"="+url.QueryEscape(v.v))
				checkFilterAnswer(t, fmt.Sprintf("%s %s=%s", k, p, v.name), res)
				n++
			}
			// A parameter given twice, as an array would be.
			res := e.get(attacker, op.Path+"?"+p+"=1&"+p+"="+url.QueryEscape(values[1].v))
			checkFilterAnswer(t, fmt.Sprintf("%s %s twice", k, p), res)
			n++
		}
	}

	// The search body: every member the document lists, with every value
	// as a JSON string and with raw JSON of every type.
	search, ok := ops["POST /v1/posts/search"]
	if !ok || search.RequestBody == nil {
		t.Fatal("POST /v1/posts/search with a body is not in the document")
	}
	members := slices.Sorted(maps.Keys(d.schema(t, search.RequestBody.Content["application/json"].Schema).Properties))
	if len(members) == 0 {
		t.Fatal("the search body lists no members")
	}
	raws := []string{
		`null`, `true`, `-1`, `0`, `1.5`, `1e308`, `1e400`, `-1e400`, `9223372036854775808`, `-9223372036854775809`,
		`NaN`, `Infinity`, `[]`, `{}`, `[null]`, `[-1]`, `[0]`, `["1"]`, `[1e308,1e308,-1e308,-1e308]`,
		`{"lat":1e308,"lon":-1e308}`, `{"lat":48.86,"lon":2.33,"x":"' OR 1=1"}`, `"\u0000"`, `"\ud800"`,
		"\"\xff\xfe\"", `"` + strings.Repeat("a", 64<<10) + `"`,
		strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
		"[" + strconv.FormatInt(vp.ID, 10) + "]",
		polygon(`[-180,-90],[180,-90],[180,90],[-180,90],[-180,-90]`),
	}
	for _, v := range values {
		s, _ := json.Marshal(v.v)
		raws = append(raws, string(s))
	}
	post := func(body string) response {
		return e.do(request{method: http.MethodPost, path: search.Path, key: attacker, body: []byte(body),
			header: map[string]string{"Content-Type": "application/json"}})
	}
	for _, m := range members {
		for i, raw := range raws {
			checkFilterAnswer(t, fmt.Sprintf("search %s=raws[%d] %.40q", m, i, raw), post(`{"`+m+`":`+raw+`}`))
			n++
		}
	}
	for _, body := range []string{
		``, `{`, `"}`, `[`, `{"q":"a"}{"q":"b"}`, `{"q":"a","q":"b"}`, `{"q":"a"} trailing`,
		`{"workspace_id":1}`, `{"WorkspaceID":1}`, `{"place":[1],"__proto__":{}}`, "{\"q\":\"\x00\"}",
		strings.Repeat(`{"a":`, 20000),
	} {
		checkFilterAnswer(t, fmt.Sprintf("search body %.40q", body), post(body))
		n++
	}
	t.Logf("%d hostile requests", n)

	// The store is intact: both workspaces see what they saw before.
	var after feed
	e.get(victim, "/v1/posts").decode(t, http.StatusOK, &after)
	if len(after.Posts) != 2 {
		t.Errorf("victim sees %d posts after the attack, want 2", len(after.Posts))
	}
	e.get(victim, "/v1/posts/"+before.Posts[0].ID).decode(t, http.StatusOK, nil)
	if got := e.feedIDs(attacker, ""); !slices.Equal(sorted(got), []string{"attacker-1", "attacker-2"}) {
		t.Errorf("attacker's feed after the attack = %v", got)
	}
	var pl struct{ Places []place }
	e.get(victim, "/v1/places").decode(t, http.StatusOK, &pl)
	if len(pl.Places) != 1 || pl.Places[0].Name != "victim venue" {
		t.Errorf("victim's places after the attack = %+v", pl.Places)
	}
}

// rawExchange writes req on a new connection to addr while reading the
// answer, so a server that answers before taking the whole body (as it
// should for an oversize one) is heard whatever happens to the writes.
// halfClose ends the request stream after req, as a client that stops
// sending mid-body.
func rawExchange(t *testing.T, addr string, req []byte, halfClose bool) (int, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second)) // a hang fails, it does not block the suite
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn.Write(req) // fails once the server has answered and closed
		if halfClose {
			conn.(*net.TCPConn).CloseWrite()
		}
	}()
	defer func() { conn.Close(); <-done }()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// rawRequest is an HTTP/1.1 request whose body is sent with a
// Content-Length of length (or chunked, for length < 0).
func rawRequest(method, target string, header map[string]string, body []byte, length int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: geopulse.test\r\nConnection: close\r\n", method, target)
	for _, k := range slices.Sorted(maps.Keys(header)) {
		fmt.Fprintf(&b, "%s: %s\r\n", k, header[k])
	}
	if length >= 0 {
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", length)
		b.Write(body)
		return b.Bytes()
	}
	b.WriteString("Transfer-Encoding: chunked\r\n\r\n")
	for len(body) > 0 {
		n := min(len(body), 32<<10)
		fmt.Fprintf(&b, "%x\r\n", n)
		b.Write(body[:n])
		b.WriteString("\r\n")
		body = body[n:]
	}
	b.WriteString("0\r\n\r\n")
	return b.Bytes()
}

// wantClientError requires a 4xx (the client's fault) with no internal
// detail: a 5xx would count a misbehaving client as a server failure.
func wantClientError(t *testing.T, label string, status int, body []byte) {
	t.Helper()
	if status < 400 || status >= 500 {
		t.Errorf("%s: status %d, want a 4xx; body %.300s", label, status, body)
	}
	for _, m := range secLeakMarkers {
		if strings.Contains(strings.ToLower(string(body)), m) {
			t.Errorf("%s: answer leaks %q: %.300s", label, m, body)
		}
	}
}

// noDeadLetters is an empty dead-letter queue.
type noDeadLetters struct{}

func (noDeadLetters) DeadLetters(context.Context, uint64, int) ([]*gphttp.DeadLetter, error) {
	return nil, nil
}
func (noDeadLetters) Redrive(context.Context, []uint64) (int, error) { return 0, nil }
func (noDeadLetters) RedriveAll(context.Context) (int, error)        { return 0, nil }

// TestOversizeAndSlowRequests: every body the document takes is refused
// with 413 beyond its limit, headers beyond the server's limit with 431,
// and clients that trickle headers or a body are cut off by the server's
// timeouts.
func TestOversizeAndSlowRequests(t *testing.T) {
	const (
		adminToken = "admin-token-of-the-security-suite"
		limit      = 64 << 10
	)
	e := newEnv(t, func(s *gphttp.Server) {
		s.MaxBodyBytes = limit
		s.AdminToken = adminToken
		s.Hooks = map[string]gphttp.Hook{"partner": {Secret: "partner-secret", Format: formats.Canonical}}
		s.Instagram = &gphttp.InstagramHook{AppSecret: "app-secret", VerifyToken: "verify-token"}
		s.DeadLetters = noDeadLetters{} // else the admin routes answer 404 before reading a body
		s.Subjects = &privacy.Subjects{Store: s.Workspaces.(privacy.SubjectStore)}
	})
	key := e.workspace("acme")
	venue := e.createVenue(key, "venue", louvre)
	d := loadSecDoc(t)
	addr := strings.TrimPrefix(e.url, "http://")

	// Every operation with a body, with credentials that pass (the
	// webhooks read the body before checking its signature) and a minimal
	// valid body.
	type bodyOp struct {
		op     secOp
		target string
		header map[string]string
		body   []byte
	}
	var bodyOps []bodyOp
	for _, op := range d.ops {
		if op.RequestBody == nil {
			continue
		}
		body, ct := d.body(t, op)
		header := map[string]string{"Content-Type": ct}
		switch op.auth() {
		case authKey:
			header["Authorization"] = "Bearer " + key
		case authAdmin:
			header["Authorization"] = "Bearer " + adminToken
		}
		target := fillPath(t, op.Path, map[string]string{"id": strconv.FormatInt(venue.ID, 10), "name": "partner", "op": "access"})
		bodyOps = append(bodyOps, bodyOp{op, target, header, body})
	}
	if len(bodyOps) == 0 {
		t.Fatal("no operation with a body in the document")
	}

	t.Run("bodies over the limit", func(t *testing.T) {
		// One size over every limit: the server's and the Instagram
		// webhook's own. White space is valid JSON and NDJSON up to the
		// end, so only the size can refuse it.
		big := bytes.Repeat([]byte(" "), max(limit, instagram.MaxWebhookBytes)+1)
		for _, o := range bodyOps {
			for _, length := range []int{len(big), -1} {
				status, b := rawExchange(t, addr, rawRequest(o.op.Method, o.target, o.header, big, length), false)
				if status != http.StatusRequestEntityTooLarge {
					t.Errorf("%s (length %d): status %d, want 413; body %.200s", o.op, length, status, b)
				}
			}
		}
	})

	t.Run("bodies cut short", func(t *testing.T) {
		for _, o := range bodyOps {
			status, b := rawExchange(t, addr, rawRequest(o.op.Method, o.target, o.header, o.body, len(o.body)+100), true)
			wantClientError(t, o.op.String(), status, b)
		}
	})

	// The rest runs against the *http.Server the binary serves, on
	// loopback, with its timeouts shortened: the defaults are minutes.
	srv := e.server.HTTPServer("127.0.0.1:0")
	if srv.ReadHeaderTimeout <= 0 || srv.ReadHeaderTimeout > 30*time.Second {
		t.Errorf("ReadHeaderTimeout = %v, want a bound of at most 30 s", srv.ReadHeaderTimeout)
	}
	if srv.ReadTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Errorf("ReadTimeout = %v, MaxHeaderBytes = %d: unbounded", srv.ReadTimeout, srv.MaxHeaderBytes)
	}
	maxHeader := srv.MaxHeaderBytes
	srv.ReadHeaderTimeout = 200 * time.Millisecond
	srv.ReadTimeout = 300 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	srvAddr := ln.Addr().String()

	t.Run("headers over the limit", func(t *testing.T) {
		big := strings.Repeat("a", 2*maxHeader)
		for _, req := range []string{
			"GET /v1/places HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key + "\r\nX-Big: " + big + "\r\n\r\n",
			"GET /v1/posts?q=" + big + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key + "\r\n\r\n",
		} {
			if status, _ := rawExchange(t, srvAddr, []byte(req), false); status != http.StatusRequestHeaderFieldsTooLarge {
				t.Errorf("%.40q…: status %d, want 431", req, status)
			}
		}
	})

	// trickle sends head, then one byte of drip every 20 ms, until the
	// server closes the connection; it fails if that takes 10 s (the
	// shortened timeouts are under a second). It returns what the server
	// sent.
	trickle := func(t *testing.T, head, drip string) []byte {
		t.Helper()
		conn, err := net.Dial("tcp", srvAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		deadline := time.Now().Add(10 * time.Second)
		conn.SetDeadline(deadline)
		got := make(chan []byte, 1)
		go func() {
			b, _ := io.ReadAll(conn) // until the server closes (or the deadline)
			got <- b
		}()
		if _, err := io.WriteString(conn, head); err != nil {
			t.Fatal(err)
		}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case b := <-got:
				if time.Now().After(deadline) {
					t.Fatalf("the server kept a trickling client for 10 s")
				}
				return b
			case <-tick.C:
				conn.Write([]byte{drip[i%len(drip)]}) // an error means the server hung up: the read ends too
			}
		}
	}

	t.Run("slow-loris headers", func(t *testing.T) {
		b := trickle(t, "GET /healthz HTTP/1.1\r\nHost: x\r\n", "X-Slow: aaaaaaaa\r\n")
		if bytes.Contains(b, []byte(" 200 ")) {
			t.Errorf("the trickled request was served: %.200s", b)
		}
	})

	t.Run("slow bodies", func(t *testing.T) {
		for _, o := range bodyOps {
			head := rawRequest(o.op.Method, o.target, o.header, nil, len(o.body)+1000)
			b := trickle(t, string(head), string(o.body))
			if len(b) == 0 {
				continue // cut off without an answer
			}
			res, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), nil)
			if err != nil {
				t.Fatalf("%s: garbled answer %q: %v", o.op, b, err)
			}
			rb, _ := io.ReadAll(res.Body)
			wantClientError(t, o.op.String(), res.StatusCode, rb)
		}
	})
}
