package server_test

import (
	"path/filepath"
	"testing"
	"time"
)

// graphClientDir is the Node project that runs the Microsoft Graph
// JavaScript client, relative to this package's directory.
var graphClientDir = filepath.Join("..", "..", "test", "graphclient")

// TestGraphClientLibrary runs the unmodified @microsoft/microsoft-graph-client
// (test/graphclient/run.mjs) against a server over HTTPS: GET /me, a 1:1
// chat, messages paged with the library's own PageIterator (docs/rules.md §11:
// Graph client libraries work by changing the base URL). It needs Node and
// `npm ci --prefix test/graphclient`; it fails, never skips, without them.
func TestGraphClientLibrary(t *testing.T) {
	node, dir := mustNodeProject(t, graphClientDir, filepath.Join("@microsoft", "microsoft-graph-client", "package.json"), "runs the Microsoft Graph JavaScript client")

	s := MustStartTLS(t)
	tenant := s.CreateTenant("Contoso", "contoso.com")
	alice := s.User(tenant, "alice")
	bob := s.User(tenant, "bob")

	runNodeScript(t, node, dir, "graphclient", 2*time.Minute,
		"BASE="+s.URL(),
		"TOKEN="+alice.Token,
		"USER_A="+alice.UserID,
		"USER_B="+bob.UserID,
		"NODE_EXTRA_CA_CERTS="+s.Cert.CertFile,
	)
}
