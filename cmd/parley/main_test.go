package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// buildLineRE finds the README's build command: optional VAR=value
// assignments, then go build … ./cmd/parley.
var buildLineRE = regexp.MustCompile("`((?:[A-Z_]+=\\S+ )*)go build [^`]*\\./cmd/parley`")

// TestReadmeBuildIsStatic: the README calls the binary static, so its build
// command must leave cgo out: with cgo (Go's default where a C compiler is
// found) net and os/user link the C library and the binary is dynamic.
// Modernc's SQLite is pure Go, so nothing else needs cgo.
func TestReadmeBuildIsStatic(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for l := range strings.SplitSeq(string(readme), "\n") {
		if buildLineRE.MatchString(l) && strings.Contains(l, "static") {
			line = l
			break
		}
	}
	if line == "" {
		t.Fatalf("README: no line with the build command of ./cmd/parley that calls the binary static")
	}
	env := strings.Fields(buildLineRE.FindStringSubmatch(line)[1])
	if !slices.Contains(env, "CGO_ENABLED=0") {
		env = append(env, "CGO_ENABLED=1") // the default where a C compiler is installed
	}
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./cmd/parley")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps ./cmd/parley with %v: %v", env, err)
	}
	if deps := strings.Fields(string(out)); slices.Contains(deps, "runtime/cgo") {
		t.Errorf("README: %q builds with cgo (runtime/cgo is linked), so the binary is not static; build with CGO_ENABLED=0", strings.TrimSpace(line))
	}
}
