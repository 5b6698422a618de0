package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestCert is a throw-away self-signed certificate for 127.0.0.1, ::1 and
// localhost, written as PEM files.
type TestCert struct {
	CertFile string // PEM certificate; also what NODE_EXTRA_CA_CERTS takes
	KeyFile  string // PEM PKCS #8 private key
	Pool     *x509.CertPool
}

// MustSelfSignedCert generates a fresh ECDSA P-256 certificate into
// tb.TempDir(). It is its own CA, so clients trust it by adding it as a
// root: Go through Pool, Node through NODE_EXTRA_CA_CERTS.
func MustSelfSignedCert(tb testing.TB) TestCert {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("generate key: %v", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		tb.Fatalf("serial: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Parley test server", Organization: []string{"Parley tests"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatalf("create certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("parse certificate: %v", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatalf("marshal key: %v", err)
	}
	dir := tb.TempDir()
	tc := TestCert{CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem"), Pool: x509.NewCertPool()}
	if err := os.WriteFile(tc.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(tc.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		tb.Fatal(err)
	}
	tc.Pool.AddCert(cert)
	return tc
}

// TLSServer is a test server that serves HTTPS with a throw-away
// certificate, and an HTTP client that trusts only that certificate.
type TLSServer struct {
	*parleytest.Server
	Cert TestCert
	HTTP *http.Client
}

// MustStartTLS starts a server on SQLite serving HTTPS (cfg.HTTP.TLSCert
// and TLSKey, as --tls-cert and --tls-key set them).
func MustStartTLS(tb testing.TB) *TLSServer {
	tb.Helper()
	cert := MustSelfSignedCert(tb)
	cfg := parleytest.Config(tb, "sqlite")
	cfg.HTTP.TLSCert, cfg.HTTP.TLSKey = cert.CertFile, cert.KeyFile
	s := parleytest.Start(tb, cfg)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.Pool, MinVersion: tls.VersionTLS12}, ForceAttemptHTTP2: true}
	tb.Cleanup(tr.CloseIdleConnections)
	return &TLSServer{Server: s, Cert: cert, HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// Client returns an API client with token over the trusting HTTP client.
// The parleytest helpers that build their own clients (SignIn, Operator,
// CreateTenant, User) use http.DefaultClient, which does not trust the
// throw-away certificate; TLSServer has its own versions of them.
func (s *TLSServer) Client(token string) *parleytest.Client {
	return &parleytest.Client{TB: s.TB, Base: s.URL(), Token: token, HTTP: s.HTTP}
}

// SignIn signs in over HTTPS and returns a client for the user.
func (s *TLSServer) SignIn(username, password string) *parleytest.Client {
	s.TB.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}}
	resp, err := s.HTTP.PostForm(s.URL()+"/oauth2/token", form)
	if err != nil {
		s.TB.Fatalf("sign in %s: %v", username, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.TB.Fatalf("sign in %s: read body: %v", username, err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &tok) != nil || tok.AccessToken == "" {
		s.TB.Fatalf("sign in %s: got %d %s, want 200 with an access_token", username, resp.StatusCode, b)
	}
	if tok.TokenType != "Bearer" {
		s.TB.Errorf("sign in %s: token_type: got %q, want Bearer", username, tok.TokenType)
	}
	c := s.Client(tok.AccessToken)
	var me struct {
		ID string `json:"id"`
	}
	c.Must(http.StatusOK, "GET", "/v1.0/me", nil).JSON(s.TB, &me)
	c.UserID = me.ID
	return c
}

// CreateTenant creates a tenant with an admin admin@<domain> through the
// operator API, over HTTPS.
func (s *TLSServer) CreateTenant(name, domain string) *parleytest.Tenant {
	s.TB.Helper()
	var out struct {
		ID string `json:"id"`
	}
	s.Client(s.Config.OperatorToken).Must(http.StatusCreated, "POST", "/parley/v1/operator/tenants", map[string]any{
		"displayName": name, "domains": []string{domain},
		"admin": map[string]string{"displayName": name + " Admin", "userPrincipalName": "admin@" + domain, "password": parleytest.Password},
	}).JSON(s.TB, &out)
	return &parleytest.Tenant{ID: out.ID, Domain: domain, Admin: s.SignIn("admin@"+domain, parleytest.Password)}
}

// User creates a member name@<domain> and signs them in, over HTTPS.
func (s *TLSServer) User(t *parleytest.Tenant, name string) *parleytest.Client {
	s.TB.Helper()
	upn := name + "@" + t.Domain
	t.Admin.Must(http.StatusCreated, "POST", "/v1.0/users", map[string]any{"displayName": parleytest.DisplayName(upn), "userPrincipalName": upn,
		"passwordProfile": map[string]string{"password": parleytest.Password}, "userType": "Member"})
	return s.SignIn(upn, parleytest.Password)
}

type tlsChatPage struct {
	Value []struct {
		ID string `json:"id"`
	} `json:"value"`
	NextLink string `json:"@odata.nextLink"`
}

// TestTLS serves HTTPS from --tls-cert/--tls-key and checks that links the
// server builds use the scheme and host the client used.
func TestTLS(t *testing.T) {
	s := MustStartTLS(t)
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "https" || u.Hostname() != "127.0.0.1" || u.Port() == "" {
		t.Fatalf("URL: got %q, want https://127.0.0.1:<port>", s.URL())
	}

	t.Run("untrusted client is refused", func(t *testing.T) {
		// A client without the throw-away root must fail the handshake:
		// the server really speaks TLS with that certificate.
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}, Timeout: 10 * time.Second}
		resp, err := c.Get(s.URL() + "/healthz")
		if err == nil {
			resp.Body.Close()
			t.Fatalf("GET /healthz with an empty root pool: got %d, want a certificate error", resp.StatusCode)
		}
		var unknown x509.UnknownAuthorityError
		if !errors.As(err, &unknown) {
			t.Errorf("GET /healthz with an empty root pool: got %v, want x509.UnknownAuthorityError", err)
		}
	})

	t.Run("plain HTTP to the TLS port gets no API answer", func(t *testing.T) {
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + u.Host + "/healthz")
		if err == nil {
			defer resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Fatalf("GET http://%s/healthz: got 200, want a refusal (the port speaks TLS)", u.Host)
			}
		}
	})

	tenant := s.CreateTenant("Contoso", "contoso.com")
	alice := s.User(tenant, "alice")
	bob := s.User(tenant, "bob")
	carol := s.User(tenant, "carol")
	if alice.UserID == "" || bob.UserID == "" {
		t.Fatalf("sign-in over HTTPS gave no user ids: alice %q, bob %q", alice.UserID, bob.UserID)
	}
	chats := map[string]bool{alice.OneOnOne(bob.UserID): true, alice.OneOnOne(carol.UserID): true}
	if len(chats) != 2 {
		t.Fatalf("got %d distinct chats, want 2", len(chats))
	}

	t.Run("HTTP/2 over TLS", func(t *testing.T) {
		req, err := http.NewRequest("GET", s.URL()+"/v1.0/me", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+alice.Token)
		resp, err := s.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /v1.0/me: got %d, want 200", resp.StatusCode)
		}
		if resp.TLS == nil {
			t.Fatal("GET /v1.0/me: the response came without TLS")
		}
		// The server offers h2 by ALPN; a client that takes it must be served.
		if resp.ProtoMajor != 2 {
			t.Errorf("protocol: got %s, want HTTP/2 (the server offers h2)", resp.Proto)
		}
	})

	for _, tc := range []struct {
		name string
		host string // the host the client uses; the connection always goes to the server's port
	}{
		{name: "127.0.0.1", host: u.Host},
		{name: "localhost", host: net.JoinHostPort("localhost", u.Port())},
	} {
		t.Run("nextLink via "+tc.name, func(t *testing.T) {
			base := "https://" + tc.host
			c := &parleytest.Client{TB: t, Base: base, Token: alice.Token, UserID: alice.UserID, HTTP: s.HTTP}
			if tc.host != u.Host {
				// Dial the server's address whatever the name, so the test
				// does not depend on how localhost resolves here.
				addr := u.Host
				dialer := &net.Dialer{Timeout: 10 * time.Second}
				tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.Cert.Pool, MinVersion: tls.VersionTLS12}, ForceAttemptHTTP2: true,
					DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
						return dialer.DialContext(ctx, network, addr)
					}}
				t.Cleanup(tr.CloseIdleConnections)
				c.HTTP = &http.Client{Transport: tr, Timeout: 30 * time.Second}
			}
			seen := map[string]bool{}
			var first tlsChatPage
			c.Must(http.StatusOK, "GET", "/v1.0/me/chats?$top=1", nil).JSON(t, &first)
			if len(first.Value) != 1 {
				t.Fatalf("GET /v1.0/me/chats?$top=1: got %d chats, want 1", len(first.Value))
			}
			seen[first.Value[0].ID] = true
			t.Logf("@odata.nextLink: %s", first.NextLink)
			if !strings.HasPrefix(first.NextLink, base+"/") {
				t.Fatalf("@odata.nextLink: got %q, want it to start with %q", first.NextLink, base+"/")
			}
			// Follow the links as a Graph client does: as given, to the end.
			next := first.NextLink
			for pages := 1; next != ""; pages++ {
				if pages > 10 {
					t.Fatalf("more than 10 pages for 2 chats; last nextLink %q", next)
				}
				if !strings.HasPrefix(next, base+"/") {
					t.Fatalf("@odata.nextLink of page %d: got %q, want it to start with %q", pages, next, base+"/")
				}
				var p tlsChatPage
				c.Must(http.StatusOK, "GET", next, nil).JSON(t, &p)
				for _, ch := range p.Value {
					if seen[ch.ID] {
						t.Errorf("chat %s listed twice", ch.ID)
					}
					seen[ch.ID] = true
				}
				next = p.NextLink
			}
			for id := range chats {
				if !seen[id] {
					t.Errorf("paging over HTTPS never listed chat %s", id)
				}
			}
		})
	}
}
