package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// password is the password of every account the tool creates.
const password = "load-test-password-1"

// client calls the API for the setup and the spot checks.
type client struct {
	base string
	http *http.Client
}

// apiError is a non-2xx answer.
type apiError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, strings.TrimSpace(e.Body))
}

// do sends a JSON request and decodes a 2xx answer into out (may be nil).
func (c *client) do(ctx context.Context, method, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return c.send(req, out)
}

func (c *client) send(req *http.Request, out any) error {
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read body: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode/100 != 2 {
		return &apiError{Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode, Body: string(b)}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode %s: %w", req.Method, req.URL.Path, b, err)
		}
	}
	return nil
}

// signIn returns a bearer token for a user.
func (c *client) signIn(ctx context.Context, upn string) (string, error) {
	form := url.Values{"grant_type": {"password"}, "username": {upn}, "password": {password}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := c.send(req, &tok); err != nil {
		return "", fmt.Errorf("sign in %s: %w", upn, err)
	}
	return tok.AccessToken, nil
}

// user is one account the tool made.
type user struct {
	ID, UPN, Token string
	// Conns is the number of WebSocket clients of the user.
	Conns int
}

// chatRef is a 1:1 chat of two active users.
type chatRef struct {
	ID   string
	A, B int // indexes into population.Users
}

// population is what the setup made.
type population struct {
	RunID   string
	Domains []string
	// Users: the first Active are paired into Chats; the rest are idle.
	Users  []user
	Active int
	Chats  []chatRef
}

// populate creates the tenants, users and chats of c through the API:
// the operator API, POST /v1.0/users and POST /v1.0/chats.
func populate(ctx context.Context, cl *client, c *Config, operatorToken string) (*population, error) {
	p := &population{RunID: randomHex(4), Active: c.Users}
	idle := c.Clients - c.Users
	idleUsers := (idle + c.IdlePerUser - 1) / c.IdlePerUser
	p.Users = make([]user, c.Users+idleUsers)
	for i := range p.Users {
		p.Users[i].Conns = 1
	}
	for i := 0; i < idleUsers; i++ {
		p.Users[c.Users+i].Conns = min(c.IdlePerUser, idle-i*c.IdlePerUser)
	}
	// Tenants, each with its admin signed in.
	admins := make([]string, c.Tenants)
	tenantIDs := make([]string, c.Tenants)
	for t := 0; t < c.Tenants; t++ {
		domain := fmt.Sprintf("t%d-%s.load.test", t, p.RunID)
		p.Domains = append(p.Domains, domain)
		in := map[string]any{"displayName": fmt.Sprintf("Load %s %d", p.RunID, t), "domains": []string{domain},
			"admin": map[string]string{"displayName": "Load Admin", "userPrincipalName": "admin@" + domain, "password": password}}
		var out struct {
			ID string `json:"id"`
		}
		if err := cl.do(ctx, http.MethodPost, "/parley/v1/operator/tenants", operatorToken, in, &out); err != nil {
			return nil, fmt.Errorf("create tenant: %w", err)
		}
		tenantIDs[t] = out.ID
		tok, err := cl.signIn(ctx, "admin@"+domain)
		if err != nil {
			return nil, err
		}
		admins[t] = tok
	}
	// Users: a pair shares a tenant; tenants take pairs in turn.
	tenantOf := func(i int) int {
		if i < p.Active {
			return (i / 2) % c.Tenants
		}
		return i % c.Tenants
	}
	upnOf := func(i int) string { return fmt.Sprintf("u%d@%s", i, p.Domains[tenantOf(i)]) }
	var err error
	if c.SlowSetup {
		err = parallel(ctx, c.SetupWorkers, len(p.Users), func(ctx context.Context, i int) error {
			t := tenantOf(i)
			upn := upnOf(i)
			in := map[string]any{"displayName": fmt.Sprintf("User %d", i), "userPrincipalName": upn,
				"passwordProfile": map[string]string{"password": password}, "userType": "Member"}
			var out struct {
				ID string `json:"id"`
			}
			if err := cl.do(ctx, http.MethodPost, "/v1.0/users", admins[t], in, &out); err != nil {
				return fmt.Errorf("create user: %w", err)
			}
			tok, err := cl.signIn(ctx, upn)
			if err != nil {
				return err
			}
			p.Users[i] = user{ID: out.ID, UPN: upn, Token: tok, Conns: p.Users[i].Conns}
			return nil
		}, func(done int) {
			fmt.Fprintf(c.Log, "  users %d/%d\n", done, len(p.Users))
		})
	} else {
		err = bulkUsers(ctx, cl, operatorToken, tenantIDs, tenantOf, upnOf, p.Users)
	}
	if err != nil {
		return nil, err
	}
	// 1:1 chats of pairs of active users.
	p.Chats = make([]chatRef, p.Active/2)
	err = parallel(ctx, c.SetupWorkers*2, len(p.Chats), func(ctx context.Context, k int) error {
		a, b := 2*k, 2*k+1
		in := map[string]any{"chatType": "oneOnOne", "members": []any{bind(p.Users[a].ID), bind(p.Users[b].ID)}}
		var out struct {
			ID string `json:"id"`
		}
		if err := cl.do(ctx, http.MethodPost, "/v1.0/chats", p.Users[a].Token, in, &out); err != nil {
			return fmt.Errorf("create chat: %w", err)
		}
		p.Chats[k] = chatRef{ID: out.ID, A: a, B: b}
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// bulkBatch is how many accounts one operator bulk call creates.
const bulkBatch = 500

// bulkUsers creates the users through POST /parley/v1/operator/users:bulk:
// one password hash per call instead of two per user, and a token for each
// account without a sign-in.
func bulkUsers(ctx context.Context, cl *client, operatorToken string, tenantIDs []string, tenantOf func(int) int, upnOf func(int) string, users []user) error {
	byTenant := make([][]int, len(tenantIDs))
	for i := range users {
		byTenant[tenantOf(i)] = append(byTenant[tenantOf(i)], i)
	}
	type account struct {
		DisplayName string `json:"displayName"`
		UPN         string `json:"userPrincipalName"`
	}
	for t, idx := range byTenant {
		for len(idx) > 0 {
			batch := idx[:min(bulkBatch, len(idx))]
			idx = idx[len(batch):]
			in := struct {
				TenantID    string    `json:"tenantId"`
				Password    string    `json:"password"`
				IssueTokens bool      `json:"issueTokens"`
				Users       []account `json:"users"`
			}{TenantID: tenantIDs[t], Password: password, IssueTokens: true}
			for _, i := range batch {
				in.Users = append(in.Users, account{DisplayName: fmt.Sprintf("User %d", i), UPN: upnOf(i)})
			}
			var out struct {
				Value []struct {
					ID          string `json:"id"`
					UPN         string `json:"userPrincipalName"`
					AccessToken string `json:"access_token"`
				} `json:"value"`
			}
			if err := cl.do(ctx, http.MethodPost, "/parley/v1/operator/users:bulk", operatorToken, in, &out); err != nil {
				return fmt.Errorf("create users: %w", err)
			}
			if len(out.Value) != len(batch) {
				return fmt.Errorf("create users: %d accounts answered for %d asked", len(out.Value), len(batch))
			}
			for k, i := range batch {
				v := out.Value[k]
				users[i] = user{ID: v.ID, UPN: v.UPN, Token: v.AccessToken, Conns: users[i].Conns}
			}
		}
	}
	return nil
}

func bind(userID string) map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": []string{"owner"},
		"user@odata.bind": "https://graph.microsoft.com/v1.0/users('" + userID + "')"}
}

// parallel runs f for 0..n-1 on workers goroutines and returns the first
// error; progress, when given, is told every few seconds.
func parallel(ctx context.Context, workers, n int, f func(ctx context.Context, i int) error, progress func(done int)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		done  int
	)
	for w := 0; w < min(workers, n); w++ {
		wg.Go(func() {
			for i := range next {
				err := f(ctx, i)
				mu.Lock()
				done++
				if err != nil && first == nil {
					first = err
					cancel()
				}
				mu.Unlock()
			}
		})
	}
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
feed:
	for i := 0; i < n; i++ {
		for {
			select {
			case next <- i:
				continue feed
			case <-ctx.Done():
				break feed
			case <-tick.C:
				if progress != nil {
					mu.Lock()
					d := done
					mu.Unlock()
					progress(d)
				}
			}
		}
	}
	close(next)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}
