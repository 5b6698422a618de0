package cli

import (
	"flag"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestAdminCommandsMatchUsage: the usage lists every command of the table
// and the table has every command the usage lists (besides audit export,
// which runs on the data directory), each with flags of its own names
// only, so the help cannot drift from what runs.
func TestAdminCommandsMatchUsage(t *testing.T) {
	usageLine := regexp.MustCompile(`(?m)^  ([a-z][a-z-]*(?: [a-z]+)?)(?:[ ]{1,}|$)`)
	var listed []string
	for _, m := range usageLine.FindAllStringSubmatch(adminUsage, -1) {
		if m[1] != "audit export" {
			listed = append(listed, m[1])
		}
	}
	var table []string
	for _, c := range adminCommands() {
		table = append(table, c.name)
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		act := c.define(fs)
		if act.run == nil {
			t.Errorf("%s: no run", c.name)
		}
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(adminUsage, "--"+f.Name) {
				t.Errorf("%s: flag --%s is not in the usage", c.name, f.Name)
			}
		})
	}
	if !slices.Equal(listed, table) {
		t.Errorf("usage lists %q, the table has %q", listed, table)
	}
}

// TestAdminAppCommandsMatchUsage: the same for the app commands.
func TestAdminAppCommandsMatchUsage(t *testing.T) {
	usageLine := regexp.MustCompile(`(?m)^  ([a-z-]+(?: [a-z-]+)?)(?:[ ]+|$)`)
	var listed, table []string
	for _, m := range usageLine.FindAllStringSubmatch(adminAppsUsage, -1) {
		listed = append(listed, m[1])
	}
	for _, c := range adminAppCommands() {
		table = append(table, c.name)
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		if act := c.define(fs); act.run == nil {
			t.Errorf("%s: no run", c.name)
		}
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(adminAppsUsage, "--"+f.Name) {
				t.Errorf("%s: flag --%s is not in the usage", c.name, f.Name)
			}
		})
	}
	if !slices.Equal(listed, table) {
		t.Errorf("usage lists %q, the table has %q", listed, table)
	}
}
