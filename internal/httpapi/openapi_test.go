package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/parleychat/parley/internal/audit"
	"github.com/parleychat/parley/internal/httpapi"
	"github.com/parleychat/parley/internal/parleytest"
)

// plannedRoutes are documented in openapi.json (they are in API.md) but
// not registered yet. Remove a route from this list in the change that
// registers it: TestOpenAPIMatchesRoutes fails while a registered route is
// still listed here, so the list only shrinks.
var plannedRoutes = []string{
	// None now: every route of API.md is registered.
}

// openAPIDoc is the part of the document the route checks read.
type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	Info    *struct {
		Title   string `json:"title"`
		Version string `json:"version"`
	} `json:"info"`
	Paths map[string]map[string]json.RawMessage `json:"paths"`
}

// operationKeys are the keys of an OpenAPI path item that hold operations.
var operationKeys = map[string]bool{"get": true, "put": true, "post": true, "delete": true, "options": true, "head": true, "patch": true, "trace": true}

func mustParseOpenAPI(tb testing.TB) openAPIDoc {
	tb.Helper()
	var doc openAPIDoc
	dec := json.NewDecoder(bytes.NewReader(httpapi.OpenAPIDocument))
	if err := dec.Decode(&doc); err != nil {
		tb.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	if dec.More() {
		tb.Fatal("openapi.json has data after the document")
	}
	return doc
}

// documentedRoutes returns "METHOD /path" for every operation in doc.
func documentedRoutes(doc openAPIDoc) map[string]bool {
	out := map[string]bool{}
	for path, item := range doc.Paths {
		for key := range item {
			if operationKeys[key] {
				out[strings.ToUpper(key)+" "+path] = true
			}
		}
	}
	return out
}

var wildcard = regexp.MustCompile(`\{([A-Za-z0-9_]+)(\.\.\.)?\}`)

// openAPIPath turns a Go 1.22 pattern path into an OpenAPI path template:
// "{name...}" becomes "{name}" and a trailing "{$}" goes.
func openAPIPath(goPath string) string {
	p := strings.TrimSuffix(goPath, "{$}")
	return wildcard.ReplaceAllString(p, "{$1}")
}

// registeredRoutes returns "METHOD /path" for every route the API
// registers. Events and Audit are set so the routes registered only when
// they are wired (the WebSocket, the audit log) are listed, as in a running
// server; the other dependencies are not needed to list.
func registeredRoutes(tb testing.TB) map[string]bool {
	tb.Helper()
	api := httpapi.New(httpapi.Deps{Events: http.NotFoundHandler(), Audit: &audit.Service{}})
	out := map[string]bool{}
	for _, r := range api.Routes() {
		if r.Method == "" {
			tb.Errorf("route %q has no method: every route must be registered as \"METHOD /path\"", r.Path)
			continue
		}
		out[r.Method+" "+openAPIPath(r.Path)] = true
	}
	if len(out) == 0 {
		tb.Fatal("Routes() is empty")
	}
	return out
}

// shape is a route with its parameter names blanked, to tell a renamed
// parameter from a missing route in failure messages.
func shape(route string) string { return wildcard.ReplaceAllString(route, "{}") }

func similar(route string, in map[string]bool) string {
	for r := range in {
		if r != route && shape(r) == shape(route) {
			return r
		}
	}
	return ""
}

func sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestOpenAPIDocument(t *testing.T) {
	doc := mustParseOpenAPI(t)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi: got %q, want %q", doc.OpenAPI, "3.1.0")
	}
	if doc.Info == nil || doc.Info.Title == "" || doc.Info.Version == "" {
		t.Errorf("info: got %+v, want a title and a version", doc.Info)
	}
	if len(doc.Paths) == 0 {
		t.Fatal("paths: got none")
	}
	for path, item := range doc.Paths {
		if !strings.HasPrefix(path, "/") {
			t.Errorf("path %q does not start with /", path)
		}
		for key := range item {
			if !operationKeys[key] && key != "parameters" && key != "summary" && key != "description" && key != "servers" {
				t.Errorf("path %q: unexpected key %q", path, key)
			}
		}
	}
}

// TestOpenAPIValidates checks the document against the OpenAPI 3.1 rules
// with kin-openapi: every $ref resolves, every path template parameter is
// declared, schemas are valid JSON Schema 2020-12, operation ids are unique.
func TestOpenAPIValidates(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(httpapi.OpenAPIDocument)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("kin-openapi reads version %q as not 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI 3.1 document: %v", err)
	}
	// Every operation answers something, and every JSON answer has a schema.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" {
				t.Errorf("%s %s: no operationId", method, path)
			}
			if op.Responses == nil || op.Responses.Len() == 0 {
				t.Errorf("%s %s: no responses", method, path)
				continue
			}
			for status, rr := range op.Responses.Map() {
				if rr.Value == nil {
					continue
				}
				if mt := rr.Value.Content.Get("application/json"); mt != nil && mt.Schema == nil {
					t.Errorf("%s %s %s: application/json without a schema", method, path, status)
				}
			}
		}
	}
}

// TestOpenAPIMatchesRoutes keeps the document and the router in step:
// every registered route is documented with the same method, every
// documented route is registered or listed in plannedRoutes, and no
// registered route is still listed as planned.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := mustParseOpenAPI(t)
	documented := documentedRoutes(doc)
	registered := registeredRoutes(t)
	planned := map[string]bool{}
	for _, r := range plannedRoutes {
		if planned[r] {
			t.Errorf("plannedRoutes lists %q twice", r)
		}
		planned[r] = true
	}

	for _, r := range sorted(registered) {
		if documented[r] {
			continue
		}
		if s := similar(r, documented); s != "" {
			t.Errorf("registered route %q is documented as %q: use the same parameter names in openapi.json and api.go", r, s)
		} else {
			t.Errorf("registered route %q is missing from openapi.json: document it (path, method, parameters, request body, responses)", r)
		}
	}
	for _, r := range sorted(documented) {
		if registered[r] || planned[r] {
			continue
		}
		if s := similar(r, registered); s != "" {
			continue // reported above from the registered side
		}
		t.Errorf("openapi.json documents %q, which is neither registered nor in plannedRoutes: remove it from the document or register it", r)
	}
	for _, r := range plannedRoutes {
		if registered[r] {
			t.Errorf("%q is registered now: remove it from plannedRoutes in openapi_test.go", r)
		}
		if !documented[r] {
			t.Errorf("planned route %q is not in openapi.json: document it, or drop it from plannedRoutes", r)
		}
	}
}

func TestOpenAPIPathConversion(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "/v1.0/me", "/v1.0/me"},
		{"params", "/v1.0/chats/{id}/messages/{mid}", "/v1.0/chats/{id}/messages/{mid}"},
		{"rest wildcard", "/files/{path...}", "/files/{path}"},
		{"exact end", "/v1.0/{$}", "/v1.0/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := openAPIPath(tt.in); got != tt.want {
				t.Errorf("openAPIPath(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestOpenAPIServed is the black-box check: a running server serves the
// embedded document as is.
func TestOpenAPIServed(t *testing.T) {
	s := parleytest.StartStore(t, "sqlite")
	resp, err := http.Get(s.URL() + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /openapi.json: got %d %s, want 200", resp.StatusCode, body)
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", resp.Header.Get("Content-Type"))
	}
	if !bytes.Equal(body, httpapi.OpenAPIDocument) {
		t.Errorf("GET /openapi.json: got %d bytes that differ from the embedded %d bytes", len(body), len(httpapi.OpenAPIDocument))
	}
	// The document is public: no token needed (asserted above), and it
	// names the routes a client needs first.
	var doc openAPIDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"POST /oauth2/token", "GET /v1.0/me", "GET /v1.0/chats/{id}/messages"} {
		if !documentedRoutes(doc)[r] {
			t.Errorf("served document lacks %s", r)
		}
	}
}

// TestOpenAPIQueryParameters checks that the query parameters clients
// need and the handlers read are documented on their routes (a route's
// parameters are not visible in Routes(), so they are listed here).
func TestOpenAPIQueryParameters(t *testing.T) {
	doc := mustParseOpenAPI(t)
	var components struct {
		Components struct {
			Parameters map[string]struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(httpapi.OpenAPIDocument, &components); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"get /parley/v1/events":           {"since", "access_token", "presence"},
		"get /parley/v1/chats/{id}/files": {"$top", "$skiptoken"},
		"get /v1.0/users":                 {"$top", "$search"},
	}
	for route, names := range want {
		method, path, _ := strings.Cut(route, " ")
		raw, ok := doc.Paths[path][method]
		if !ok {
			t.Errorf("%s is not documented", route)
			continue
		}
		var op struct {
			Parameters []struct {
				Ref  string `json:"$ref"`
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
		}
		if err := json.Unmarshal(raw, &op); err != nil {
			t.Fatalf("%s: %v", route, err)
		}
		have := map[string]bool{}
		for _, p := range op.Parameters {
			if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
				p.Name, p.In = components.Components.Parameters[name].Name, components.Components.Parameters[name].In
			}
			if p.In == "query" {
				have[p.Name] = true
			}
		}
		for _, n := range names {
			if !have[n] {
				t.Errorf("%s: query parameter %q is not documented", route, n)
			}
		}
	}
}
