package app

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
)

// Limits on an app package (a zip with manifest.json and its icons). A zip
// is read only within them, so a zip bomb costs at most MaxUnpackedBytes.
const (
	MaxPackageBytes  = 1 << 20 // the upload
	MaxUnpackedBytes = 4 << 20 // every entry unpacked, together
	MaxManifestBytes = 64 << 10
	MaxPackageFiles  = 32
)

// App is an app in a tenant's catalog (Graph teamsApp with its one
// teamsAppDefinition).
type App struct {
	// ID is the catalog id Parley gives the app.
	ID       string
	TenantID identity.TenantID
	// ExternalID is the manifest's id.
	ExternalID  string
	DisplayName string
	Version     string
	Description string
	// BotID is the registered bot the app's manifest names ("" for none).
	BotID    string
	Scopes   Scope
	Tabs     []Tab
	Commands []Command
	// Manifest is manifest.json as uploaded.
	Manifest []byte
	// Blocked: the tenant blocked the app for everyone (docs/rules.md §9).
	Blocked   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Tab is a static or configurable tab of an app.
type Tab struct {
	EntityID   string
	Name       string
	ContentURL string
}

// Command is a message-extension command.
type Command struct {
	ID    string
	Title string
	Type  string // query or action
}

// The kinds of message-extension command (the manifest's commands[].type).
const (
	CommandQuery  = "query"
	CommandAction = "action"
)

// Kind is the command's type; the manifest's default is query.
func (c Command) Kind() string {
	if c.Type == "" {
		return CommandQuery
	}
	return c.Type
}

// Bot is a bot registration: the bot's app id, the endpoint Parley posts
// activities to, and the hash of its client secret.
type Bot struct {
	ID          string
	TenantID    identity.TenantID
	DisplayName string
	Endpoint    string
	SecretHash  string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// NewID returns a fresh catalog, bot or install id.
func NewID() string { return uuid.NewString() }

// NewSecret returns a fresh client secret and its stored hash.
func NewSecret() (secret, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms (Go 1.24+).
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, HashSecret(secret)
}

// HashSecret is how a client secret is stored.
func HashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// SecretMatches compares a presented secret with a stored hash in constant time.
func SecretMatches(secret, hash string) bool {
	return subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(hash)) == 1
}

// CheckEndpoint validates a bot's messaging endpoint: an absolute http(s) URL.
func CheckEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || len(raw) > 2048 {
		return errcode.New(errcode.BadRequest, "messagingEndpoint must be an absolute https:// (or http://) URL.")
	}
	return nil
}

// manifest is the part of a Teams app manifest Parley reads.
type manifest struct {
	ManifestVersion *string `json:"manifestVersion"`
	Version         *string `json:"version"`
	ID              *string `json:"id"`
	Developer       *struct {
		Name          *string `json:"name"`
		WebsiteURL    *string `json:"websiteUrl"`
		PrivacyURL    *string `json:"privacyUrl"`
		TermsOfUseURL *string `json:"termsOfUseUrl"`
	} `json:"developer"`
	Name *struct {
		Short *string `json:"short"`
		Full  string  `json:"full"`
	} `json:"name"`
	Description *struct {
		Short *string `json:"short"`
		Full  *string `json:"full"`
	} `json:"description"`
	Icons *struct {
		Outline *string `json:"outline"`
		Color   *string `json:"color"`
	} `json:"icons"`
	AccentColor *string `json:"accentColor"`
	Bots        []struct {
		BotID  *string  `json:"botId"`
		Scopes []string `json:"scopes"`
	} `json:"bots"`
	StaticTabs []struct {
		EntityID   *string  `json:"entityId"`
		Name       string   `json:"name"`
		ContentURL string   `json:"contentUrl"`
		Scopes     []string `json:"scopes"`
	} `json:"staticTabs"`
	ConfigurableTabs []struct {
		ConfigurationURL *string  `json:"configurationUrl"`
		Scopes           []string `json:"scopes"`
		Context          []string `json:"context"`
	} `json:"configurableTabs"`
	ComposeExtensions []struct {
		BotID    string `json:"botId"`
		Commands []struct {
			ID    *string `json:"id"`
			Title *string `json:"title"`
			Type  string  `json:"type"`
		} `json:"commands"`
	} `json:"composeExtensions"`
}

var (
	guidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$`)
	colorRE  = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)([-+][0-9A-Za-z.-]+)?$`)
)

func missing(field string) error {
	return errcode.New(errcode.BadRequest, "manifest.json: %s is required.", field)
}

func invalid(field, why string) error {
	return errcode.New(errcode.BadRequest, "manifest.json: %s %s.", field, why)
}

// ReadPackage reads a Teams app package: a zip holding manifest.json and
// the icons it names. The manifest must have the Teams manifest schema's
// required fields (manifestVersion, version, id, developer with name,
// websiteUrl, privacyUrl and termsOfUseUrl, name.short, description.short
// and .full, icons.outline and .color, accentColor); a bad one is a
// badRequest naming the field. The result has no ID, TenantID or times.
func ReadPackage(pkg []byte) (App, error) {
	if len(pkg) > MaxPackageBytes {
		return App{}, errcode.New(errcode.PayloadTooLarge, "An app package may be at most %d bytes.", MaxPackageBytes)
	}
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		return App{}, errcode.New(errcode.BadRequest, "The app package is not a zip file.")
	}
	if len(zr.File) > MaxPackageFiles {
		return App{}, errcode.New(errcode.BadRequest, "An app package may hold at most %d files.", MaxPackageFiles)
	}
	files := map[string]bool{}
	var raw []byte
	budget := int64(MaxUnpackedBytes)
	for _, f := range zr.File {
		name := path.Clean(f.Name)
		if strings.HasPrefix(name, "../") || strings.HasPrefix(name, "/") {
			return App{}, errcode.New(errcode.BadRequest, "The app package holds a file outside its root (%q).", f.Name)
		}
		files[name] = true
		// Read every entry within the budget: the declared sizes of a zip
		// can lie, the bytes cannot.
		rc, err := f.Open()
		if err != nil {
			return App{}, errcode.New(errcode.BadRequest, "The app package's file %q cannot be read.", f.Name)
		}
		limit := budget
		if name == "manifest.json" {
			limit = min(budget, MaxManifestBytes)
		}
		b, err := io.ReadAll(io.LimitReader(rc, limit+1))
		_ = rc.Close() // read-only
		if err != nil {
			return App{}, errcode.New(errcode.BadRequest, "The app package's file %q cannot be read.", f.Name)
		}
		if int64(len(b)) > limit {
			if name == "manifest.json" && limit == MaxManifestBytes {
				return App{}, errcode.New(errcode.BadRequest, "manifest.json may be at most %d bytes.", MaxManifestBytes)
			}
			return App{}, errcode.New(errcode.PayloadTooLarge, "The app package unpacks to more than %d bytes.", MaxUnpackedBytes)
		}
		budget -= int64(len(b))
		if name == "manifest.json" {
			raw = b
		}
	}
	if raw == nil {
		return App{}, errcode.New(errcode.BadRequest, "The app package has no manifest.json at its root.")
	}
	a, err := ParseManifest(raw)
	if err != nil {
		return App{}, err
	}
	var m manifest
	_ = json.Unmarshal(raw, &m) // ParseManifest decoded it already
	for field, name := range map[string]string{"icons.outline": *m.Icons.Outline, "icons.color": *m.Icons.Color} {
		if !files[path.Clean(name)] {
			return App{}, invalid(field, "names "+quote(name)+", which the package does not hold")
		}
	}
	return a, nil
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// ParseManifest validates manifest.json and returns the app it describes.
func ParseManifest(raw []byte) (App, error) {
	if !utf8.Valid(raw) {
		return App{}, errcode.New(errcode.BadRequest, "manifest.json is not valid UTF-8.")
	}
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")) // a byte-order mark, as some editors write
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return App{}, errcode.New(errcode.BadRequest, "manifest.json is not a JSON object: %v.", err)
	}
	switch {
	case m.ManifestVersion == nil || *m.ManifestVersion == "":
		return App{}, missing("manifestVersion")
	case m.Version == nil || *m.Version == "":
		return App{}, missing("version")
	case m.ID == nil || *m.ID == "":
		return App{}, missing("id")
	case m.Developer == nil:
		return App{}, missing("developer")
	case m.Developer.Name == nil || *m.Developer.Name == "":
		return App{}, missing("developer.name")
	case m.Developer.WebsiteURL == nil || *m.Developer.WebsiteURL == "":
		return App{}, missing("developer.websiteUrl")
	case m.Developer.PrivacyURL == nil || *m.Developer.PrivacyURL == "":
		return App{}, missing("developer.privacyUrl")
	case m.Developer.TermsOfUseURL == nil || *m.Developer.TermsOfUseURL == "":
		return App{}, missing("developer.termsOfUseUrl")
	case m.Name == nil:
		return App{}, missing("name")
	case m.Name.Short == nil || strings.TrimSpace(*m.Name.Short) == "":
		return App{}, missing("name.short")
	case m.Description == nil:
		return App{}, missing("description")
	case m.Description.Short == nil || *m.Description.Short == "":
		return App{}, missing("description.short")
	case m.Description.Full == nil || *m.Description.Full == "":
		return App{}, missing("description.full")
	case m.Icons == nil:
		return App{}, missing("icons")
	case m.Icons.Outline == nil || *m.Icons.Outline == "":
		return App{}, missing("icons.outline")
	case m.Icons.Color == nil || *m.Icons.Color == "":
		return App{}, missing("icons.color")
	case m.AccentColor == nil || *m.AccentColor == "":
		return App{}, missing("accentColor")
	}
	switch {
	case !guidRE.MatchString(*m.ID):
		return App{}, invalid("id", "must be a GUID")
	case !semverRE.MatchString(*m.Version) || len(*m.Version) > 256:
		return App{}, invalid("version", "must be a semantic version (1.0.0)")
	case utf8.RuneCountInString(*m.Name.Short) > 30:
		return App{}, invalid("name.short", "may be at most 30 characters")
	case utf8.RuneCountInString(*m.Description.Short) > 80:
		return App{}, invalid("description.short", "may be at most 80 characters")
	case utf8.RuneCountInString(*m.Description.Full) > 4000:
		return App{}, invalid("description.full", "may be at most 4000 characters")
	case !colorRE.MatchString(*m.AccentColor):
		return App{}, invalid("accentColor", "must be a colour like #4464EE")
	case len(m.Bots) > 1:
		return App{}, invalid("bots", "may name at most one bot")
	}
	a := App{ExternalID: strings.ToLower(*m.ID), DisplayName: strings.TrimSpace(*m.Name.Short), Version: *m.Version, Description: *m.Description.Short, Manifest: raw}
	for i, b := range m.Bots {
		if b.BotID == nil || *b.BotID == "" {
			return App{}, missing(field("bots", i, "botId"))
		}
		if !guidRE.MatchString(*b.BotID) {
			return App{}, invalid(field("bots", i, "botId"), "must be a GUID")
		}
		if len(b.Scopes) == 0 {
			return App{}, missing(field("bots", i, "scopes"))
		}
		a.BotID = strings.ToLower(*b.BotID)
		for _, s := range b.Scopes {
			sc, ok := scopeNames[s]
			if !ok {
				return App{}, invalid(field("bots", i, "scopes"), "holds "+quote(s)+"; the scopes are personal, team and groupChat")
			}
			a.Scopes |= sc
		}
	}
	for i, t := range m.StaticTabs {
		if t.EntityID == nil || *t.EntityID == "" {
			return App{}, missing(field("staticTabs", i, "entityId"))
		}
		if err := checkTabURL(field("staticTabs", i, "contentUrl"), t.ContentURL); err != nil {
			return App{}, err
		}
		a.Tabs = append(a.Tabs, Tab{EntityID: *t.EntityID, Name: t.Name, ContentURL: t.ContentURL})
		a.Scopes |= ScopePersonal
	}
	for i, t := range m.ConfigurableTabs {
		if t.ConfigurationURL == nil || *t.ConfigurationURL == "" {
			return App{}, missing(field("configurableTabs", i, "configurationUrl"))
		}
		if err := checkTabURL(field("configurableTabs", i, "configurationUrl"), *t.ConfigurationURL); err != nil {
			return App{}, err
		}
		a.Tabs = append(a.Tabs, Tab{EntityID: "config", ContentURL: *t.ConfigurationURL})
		for _, s := range t.Scopes {
			a.Scopes |= scopeNames[s]
		}
		for _, c := range t.Context {
			if strings.HasPrefix(c, "meeting") {
				a.Scopes |= ScopeMeeting
			}
		}
	}
	for i, ce := range m.ComposeExtensions {
		for j, c := range ce.Commands {
			f := field("composeExtensions", i, "commands") + "[" + strconv.Itoa(j) + "]"
			if c.ID == nil || *c.ID == "" {
				return App{}, missing(f + ".id")
			}
			if c.Title == nil || *c.Title == "" {
				return App{}, missing(f + ".title")
			}
			if c.Type != "" && c.Type != CommandQuery && c.Type != CommandAction {
				return App{}, invalid(f+".type", "must be query or action")
			}
			a.Commands = append(a.Commands, Command{ID: *c.ID, Title: *c.Title, Type: Command{Type: c.Type}.Kind()})
		}
	}
	return a, nil
}

var scopeNames = map[string]Scope{"personal": ScopePersonal, "team": ScopeTeam, "groupChat": ScopeGroupChat, "groupchat": ScopeGroupChat}

func checkTabURL(field, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return invalid(field, "must be an https:// URL")
	}
	return nil
}

func field(list string, i int, name string) string { return list + "[" + strconv.Itoa(i) + "]." + name }
