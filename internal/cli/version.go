package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// runVersion prints the module version and the source revision the binary
// was built from, as the Go toolchain recorded them in the build info.
func runVersion(_ context.Context, e env, args []string) error {
	fs := newFlagSet(e, "version", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	bi, _ := debug.ReadBuildInfo() // nil without build info; versionLine says so
	_, err := fmt.Fprintln(e.stdout, versionLine(bi, Version))
	return err
}

// versionLine formats the build info: "parley VERSION, revision REV (TIME,
// modified), GO OS/ARCH". override, when set with -ldflags, replaces the
// module version. bi may be nil (a binary without build info).
func versionLine(bi *debug.BuildInfo, override string) string {
	version, goVersion := "(unknown)", runtime.Version()
	var rev, at string
	var modified bool
	if bi != nil {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if override != "" {
		version = override
	}
	var b strings.Builder
	fmt.Fprintf(&b, "parley %s, ", version)
	if rev == "" {
		// go test binaries, and builds outside a checkout or with
		// -buildvcs=false, carry no VCS information.
		b.WriteString("revision unknown (built without VCS information)")
	} else {
		fmt.Fprintf(&b, "revision %s", rev)
		var notes []string
		if at != "" {
			notes = append(notes, at)
		}
		if modified {
			notes = append(notes, "modified")
		}
		if len(notes) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(notes, ", "))
		}
	}
	fmt.Fprintf(&b, ", %s %s/%s", goVersion, runtime.GOOS, runtime.GOARCH)
	return b.String()
}
