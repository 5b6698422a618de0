// Package bot speaks the Bot Framework protocol with bots (docs/rules.md §9):
// it signs Parley's requests to a bot with a JWT whose keys it publishes
// as OpenID metadata, issues and checks the tokens bots call back with
// (client credentials), turns Parley's events into Activities and posts
// them to each bot's messaging endpoint through a bounded per-bot queue, so
// a slow or dead bot slows nobody else. It is an edge package: it does
// HTTP. The rules are internal/app's; server builds it, httpapi calls it.
package bot

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parleychat/parley/internal/errcode"
)

// KeyStore keeps the signing key, the same on every node.
type KeyStore interface {
	// BotSigningKey stores candidate as the key unless one is stored
	// already, and returns the stored one.
	BotSigningKey(ctx context.Context, candidate string) (string, error)
}

// Keys sign and check Parley's Bot Framework tokens.
type Keys struct {
	priv *rsa.PrivateKey
	kid  string
	now  func() time.Time
}

// LoadKeys returns the signing keys, creating them on first use.
func LoadKeys(ctx context.Context, ks KeyStore, now func() time.Time) (*Keys, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate bot signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode bot signing key: %w", err)
	}
	stored, err := ks.BotSigningKey(ctx, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	if err != nil {
		return nil, fmt.Errorf("load bot signing key: %w", err)
	}
	blk, _ := pem.Decode([]byte(stored))
	if blk == nil {
		return nil, errors.New("load bot signing key: not PEM")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("load bot signing key: %w", err)
	}
	priv, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("load bot signing key: not RSA")
	}
	sum := sha256.Sum256(x509.MarshalPKCS1PublicKey(&priv.PublicKey))
	return &Keys{priv: priv, kid: base64.RawURLEncoding.EncodeToString(sum[:12]), now: now}, nil
}

// Issuer is the iss of every token Parley signs: the bot settings
// ToBotFromChannelTokenIssuer and the login authority.
func Issuer(base string) string { return strings.TrimRight(base, "/") + "/parley/v1/bots" }

// ServiceURL is the activity's serviceUrl, the base of the Connector API.
func ServiceURL(base string) string { return strings.TrimRight(base, "/") + "/" }

// JWKS is the key set served at jwks_uri.
func (k *Keys) JWKS() map[string]any {
	pub := k.priv.PublicKey
	return map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.kid,
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}}
}

func (k *Keys) sign(claims jwt.MapClaims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = k.kid
	s, err := t.SignedString(k.priv)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// ToBotTTL is how long a token on a request to a bot lives.
const ToBotTTL = time.Hour

// ForBot signs the token of a request to a bot: iss the issuer, aud the
// bot's app id, serviceurl the activity's serviceUrl (what the SDK checks).
func (k *Keys) ForBot(base, botID string) (string, error) {
	now := k.now()
	return k.sign(jwt.MapClaims{"iss": Issuer(base), "aud": botID, "serviceurl": ServiceURL(base),
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(ToBotTTL).Unix()})
}

// BotTokenTTL is how long a bot's access token lives.
const BotTokenTTL = time.Hour

// ForChannel issues a bot's access token for the Connector API
// (client credentials): appid the bot, aud the scope it asked for.
func (k *Keys) ForChannel(base, botID, scope string) (string, error) {
	now := k.now()
	aud := strings.TrimSuffix(scope, "/.default")
	if aud == "" {
		aud = Issuer(base)
	}
	return k.sign(jwt.MapClaims{"iss": Issuer(base), "aud": aud, "appid": botID, "azp": botID, "sub": botID,
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(BotTokenTTL).Unix()})
}

// CheckChannelToken checks a bot's access token and returns the bot's id.
// Errors: unauthenticated (wrong signature, issuer or expired).
func (k *Keys) CheckChannelToken(base, token string) (string, error) {
	bad := errcode.New(errcode.Unauthenticated, "The bot token is missing, wrong or expired.")
	if token == "" {
		return "", bad
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return &k.priv.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(Issuer(base)), jwt.WithExpirationRequired(), jwt.WithTimeFunc(k.now))
	if err != nil {
		return "", bad
	}
	id, _ := claims["appid"].(string)
	if id == "" {
		return "", bad
	}
	return id, nil
}
