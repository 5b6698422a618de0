// Package parleytest is the test harness: it starts the real server on
// 127.0.0.1:0 over a temporary SQLite file or a fresh PostgreSQL schema, and
// gives tests a small client for the public HTTP API. Only tests import it.
package parleytest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/config"
	"github.com/parleychat/parley/internal/server"
	"github.com/parleychat/parley/internal/store/storetest"
)

// Stores are the backends every store-agnostic test runs on.
var Stores = []string{"sqlite", "postgres"}

// PostgresURL is the database the PostgreSQL runs use (storetest.PostgresURL).
func PostgresURL() string { return storetest.PostgresURL() }

// RequirePostgres skips the test when no PostgreSQL is reachable, and fails
// it on CI (storetest.RequirePostgres).
func RequirePostgres(tb testing.TB) {
	tb.Helper()
	storetest.RequirePostgres(tb)
}

// PostgresSchema creates a fresh schema and returns a URL whose connections
// use it; the schema is dropped at cleanup (storetest.PostgresSchema).
func PostgresSchema(tb testing.TB) string {
	tb.Helper()
	return storetest.PostgresSchema(tb)
}

// Config returns a configuration for a test server on store ("sqlite" or
// "postgres") with a free loopback port and a fresh database.
func Config(tb testing.TB, store string) config.Config {
	tb.Helper()
	cfg := config.Default()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Store.Kind = store
	cfg.Store.DataDir = tb.TempDir()
	cfg.OperatorToken = "operator-secret-for-tests"
	// Every test account is brand new and tests send alike texts: the spam
	// checks that would trip are off unless a test turns them on.
	cfg.Safety.NewSenderAge = 0
	cfg.Safety.RepeatRecipients = 0
	if store == "postgres" {
		cfg.Store.PostgresURL = PostgresSchema(tb)
	}
	return cfg
}

// Server is a running test server with its operator token.
type Server struct {
	*server.Server
	TB testing.TB
}

// Start starts a server for cfg and closes it at cleanup.
func Start(tb testing.TB, cfg config.Config) *Server {
	tb.Helper()
	s := server.New(cfg, nil, io.Discard)
	if err := s.Open(context.Background()); err != nil {
		tb.Fatalf("start server: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close server: %v", err)
		}
	})
	return &Server{Server: s, TB: tb}
}

// StartStore starts a fresh server on the named store.
func StartStore(tb testing.TB, store string) *Server {
	tb.Helper()
	return Start(tb, Config(tb, store))
}

// EachStore runs f as a subtest per store: SQLite always, PostgreSQL when
// reachable (RequirePostgres).
func EachStore(t *testing.T, f func(t *testing.T, store string)) {
	for _, st := range Stores {
		t.Run(st, func(t *testing.T) {
			if st == "postgres" {
				RequirePostgres(t)
			}
			f(t, st)
		})
	}
}

// Client calls the API as one user (or anonymously with no token).
type Client struct {
	TB     testing.TB
	Base   string
	Token  string
	HTTP   *http.Client
	UserID string
}

// Anonymous returns a client without a token.
func (s *Server) Anonymous() *Client {
	return &Client{TB: s.TB, Base: s.URL(), HTTP: http.DefaultClient}
}

// Operator returns a client with the operator token.
func (s *Server) Operator() *Client {
	c := s.Anonymous()
	c.Token = s.Config.OperatorToken
	return c
}

// Response is an API answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test when it cannot.
func (r *Response) JSON(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Map decodes the body as an object.
func (r *Response) Map(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	r.JSON(tb, &m)
	return m
}

// Body2 returns the body as a string.
func (r *Response) Body2() string { return string(r.Body) }

// ErrorCode returns the code of an error body, or "".
func (r *Response) ErrorCode() string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(r.Body, &e) != nil {
		return ""
	}
	return e.Error.Code
}

// Do sends a request; body is JSON-encoded unless it is a string or []byte
// (sent as is, with JSON content type).
func (c *Client) Do(method, path string, body any) *Response {
	c.TB.Helper()
	return c.DoHeader(method, path, body, nil)
}

// DoHeader is Do with extra headers.
func (c *Client) DoHeader(method, path string, body any, header map[string]string) *Response {
	c.TB.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			c.TB.Fatal(err)
		}
		rd = bytes.NewReader(enc)
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = c.Base + path
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		c.TB.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.TB.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.TB.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Must sends a request and fails the test unless the status is want.
func (c *Client) Must(want int, method, path string, body any) *Response {
	c.TB.Helper()
	r := c.Do(method, path, body)
	if r.Status != want {
		c.TB.Fatalf("%s %s: got %d %s, want %d", method, path, r.Status, r.Body, want)
	}
	return r
}

// SignIn signs in and returns a client for the user.
func (s *Server) SignIn(username, password string) *Client {
	s.TB.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}}
	resp, err := http.PostForm(s.URL()+"/oauth2/token", form)
	if err != nil {
		s.TB.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(b, &tok) != nil {
		s.TB.Fatalf("sign in %s: %d %s", username, resp.StatusCode, b)
	}
	c := s.Anonymous()
	c.Token = tok.AccessToken
	var me struct {
		ID string `json:"id"`
	}
	c.Must(200, "GET", "/v1.0/me", nil).JSON(s.TB, &me)
	c.UserID = me.ID
	return c
}

// Password is the password of every account the harness creates.
const Password = "correct horse battery"

// Tenant is a tenant made by the harness with its admin's client.
type Tenant struct {
	ID     string
	Domain string
	Admin  *Client
}

// CreateTenant creates a tenant with the domain and an admin
// admin@<domain>, through the operator API.
func (s *Server) CreateTenant(name, domain string) *Tenant {
	s.TB.Helper()
	var out struct {
		ID string `json:"id"`
	}
	s.Operator().Must(201, "POST", "/parley/v1/operator/tenants", map[string]any{
		"displayName": name, "domains": []string{domain},
		"admin": map[string]string{"displayName": name + " Admin", "userPrincipalName": "admin@" + domain, "password": Password},
	}).JSON(s.TB, &out)
	return &Tenant{ID: out.ID, Domain: domain, Admin: s.SignIn("admin@"+domain, Password)}
}

// User creates a member (or with guest=true, a guest at upn) and signs in.
func (s *Server) User(t *Tenant, upn string, guest bool) *Client {
	s.TB.Helper()
	if !strings.Contains(upn, "@") {
		upn = upn + "@" + t.Domain
	}
	typ := "Member"
	if guest {
		typ = "Guest"
	}
	t.Admin.Must(201, "POST", "/v1.0/users", map[string]any{"displayName": DisplayName(upn), "userPrincipalName": upn,
		"passwordProfile": map[string]string{"password": Password}, "userType": typ})
	return s.SignIn(upn, Password)
}

// DisplayName makes "Alice" of "alice@contoso.com".
func DisplayName(upn string) string {
	n, _, _ := strings.Cut(upn, "@")
	if n == "" {
		return upn
	}
	return strings.ToUpper(n[:1]) + n[1:]
}

// Bind returns a Graph member that binds a user id.
func Bind(userID string, owner bool) map[string]any {
	m := map[string]any{"@odata.type": "#microsoft.graph.aadUserConversationMember",
		"user@odata.bind": fmt.Sprintf("https://graph.microsoft.com/v1.0/users('%s')", userID), "roles": []string{}}
	if owner {
		m["roles"] = []string{"owner"}
	}
	return m
}

// OneOnOne creates (or finds) the 1:1 chat of c with userID.
func (c *Client) OneOnOne(userID string) string {
	c.TB.Helper()
	r := c.Do("POST", "/v1.0/chats", map[string]any{"chatType": "oneOnOne", "members": []any{Bind(c.UserID, true), Bind(userID, true)}})
	if r.Status != 201 && r.Status != 200 {
		c.TB.Fatalf("create 1:1: %d %s", r.Status, r.Body)
	}
	return r.Map(c.TB)["id"].(string)
}

// Send posts a text message and returns its id.
func (c *Client) Send(chatID, text string) string {
	c.TB.Helper()
	r := c.Must(201, "POST", "/v1.0/chats/"+chatID+"/messages", map[string]any{"body": map[string]string{"content": text}})
	return r.Map(c.TB)["id"].(string)
}
