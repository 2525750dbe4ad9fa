package http_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gphttp "github.com/geopulse/geopulse/http"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// openAPIDoc is the part of the document the route test reads.
type openAPIDoc struct {
	OpenAPI string                                `json:"openapi"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

type operation struct {
	OperationID string            `json:"operationId"`
	Security    *[]map[string]any `json:"security"`
	Responses   map[string]any    `json:"responses"`
}

// TestOpenAPIRoutes: every route of the table is in the document with its
// method, path and security, and every operation of the document is a route.
func TestOpenAPIRoutes(t *testing.T) {
	e := newEnv(t)
	var doc openAPIDoc
	e.get("", "/v1/openapi.json").decode(t, http.StatusOK, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}

	routes := map[string]gphttp.Route{}
	for _, rt := range gphttp.Routes(&gphttp.Server{}) {
		// net/http's {id} wildcards are written as OpenAPI's {id}; a
		// {name...} wildcard would need mapping, and there is none.
		if strings.Contains(rt.Pattern, "...}") {
			t.Fatalf("pattern %s has a multi-segment wildcard", rt.Pattern)
		}
		routes[strings.ToLower(rt.Method)+" "+rt.Pattern] = rt
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for method, raw := range item {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			k := method + " " + path
			documented[k] = true
			rt, ok := routes[k]
			if !ok {
				t.Errorf("document has %s, which no route serves", k)
				continue
			}
			var op operation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			public := op.Security != nil && len(*op.Security) == 0
			if public != rt.Public {
				t.Errorf("%s: public in document = %v, in routes = %v", k, public, rt.Public)
			}
			if op.OperationID == "" || len(op.Responses) == 0 {
				t.Errorf("%s: no operationId or responses", k)
			}
			if _, ok := op.Responses["401"]; !rt.Public && !ok {
				t.Errorf("%s: needs a key but documents no 401", k)
			}
			if _, ok := op.Responses["500"]; !ok && strings.HasPrefix(path, "/v1/") && !rt.Public {
				t.Errorf("%s: documents no 500", k)
			}
		}
	}
	for k := range routes {
		if !documented[k] {
			t.Errorf("route %s is missing from the document", k)
		}
	}
}

// TestOpenAPIGolden: the served document equals testdata/openapi.golden.json
// (regenerate with go test ./http -run Golden -update), and it is valid JSON
// whose every $ref resolves.
func TestOpenAPIGolden(t *testing.T) {
	e := newEnv(t)
	res := e.get("", "/v1/openapi.json")
	res.decode(t, http.StatusOK, nil)
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	golden := filepath.Join("testdata", "openapi.golden.json")
	if *update {
		if err := os.WriteFile(golden, res.body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.body, want) {
		t.Errorf("served document differs from %s; run go test ./http -run Golden -update and review the diff", golden)
	}

	var doc any
	if err := json.Unmarshal(res.body, &doc); err != nil {
		t.Fatal(err)
	}
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "$ref" {
					refs = append(refs, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	if len(refs) == 0 {
		t.Fatal("no $ref in the document")
	}
	for _, ref := range slices.Compact(slices.Sorted(slices.Values(refs))) {
		var node any = doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			m, ok := node.(map[string]any)
			if !ok || m[part] == nil {
				t.Errorf("$ref %s does not resolve", ref)
				break
			}
			node = m[part]
		}
	}
}
