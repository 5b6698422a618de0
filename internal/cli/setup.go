package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// runSetup calls POST /parley/v1/setup on a running server.
func runSetup(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "setup", "--token T --org NAME --domain D --admin-name N --admin-email E --admin-password P")
	var url, token, org, domain, name, email, password string
	fs.StringVar(&url, "url", "http://127.0.0.1:8080", "URL of the running server")
	fs.StringVar(&token, "token", "", "the one-time setup token the server printed (required)")
	fs.StringVar(&org, "org", "", "display name of the organisation (required)")
	fs.StringVar(&domain, "domain", "", "its verified e-mail domain (required)")
	fs.StringVar(&name, "admin-name", "", "display name of the first admin")
	fs.StringVar(&email, "admin-email", "", "sign-in address of the first admin (required)")
	fs.StringVar(&password, "admin-password", "", "password of the first admin (or PARLEY_ADMIN_PASSWORD) (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if password == "" {
		password = e.getenv("PARLEY_ADMIN_PASSWORD")
	}
	if err := require(fs, need{"--token", token}, need{"--org", org}, need{"--domain", domain}, need{"--admin-email", email},
		need{"--admin-password (or PARLEY_ADMIN_PASSWORD)", password}); err != nil {
		return err
	}
	if name == "" {
		name = email
	}
	body, err := json.Marshal(map[string]any{"token": token, "displayName": org, "domains": []string{domain},
		"admin": map[string]string{"displayName": name, "userPrincipalName": email, "password": password}})
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(url, "/")+"/parley/v1/setup", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("reach the server at %s (is 'parley serve' running?): %w", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusCreated {
		var apiErr struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(b, &apiErr) == nil && apiErr.Error.Message != "" {
			return fmt.Errorf("%s (%s)", apiErr.Error.Message, apiErr.Error.Code)
		}
		return fmt.Errorf("server answered %s", resp.Status)
	}
	fmt.Fprintf(e.stdout, "Created organisation %s. Sign in as %s at %s.\n", org, email, url)
	return nil
}
