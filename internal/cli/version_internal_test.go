package cli

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestVersionLine(t *testing.T) {
	t.Parallel()
	platform := runtime.GOOS + "/" + runtime.GOARCH
	vcs := []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2025-06-01T10:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	tests := []struct {
		name     string
		bi       *debug.BuildInfo
		override string
		want     string
	}{
		{"tagged clean build", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/parleychat/parley", Version: "v1.2.3"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}}},
			"", "parley v1.2.3, revision abc, go1.26.0 " + platform},
		{"modified checkout", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.0.0-20250601100000-0123456789ab+dirty"}, Settings: vcs},
			"", "parley v0.0.0-20250601100000-0123456789ab+dirty, revision 0123456789abcdef0123456789abcdef01234567 (2025-06-01T10:00:00Z, modified), go1.26.0 " + platform},
		{"ldflags version", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			"1.0.0-rc1", "parley 1.0.0-rc1, revision 0123456789abcdef0123456789abcdef01234567 (2025-06-01T10:00:00Z, modified), go1.26.0 " + platform},
		{"no vcs", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}},
			"", "parley (devel), revision unknown (built without VCS information), go1.26.0 " + platform},
		{"no build info", nil, "", "parley (unknown), revision unknown (built without VCS information), " + runtime.Version() + " " + platform},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := versionLine(tt.bi, tt.override); got != tt.want {
				t.Errorf("versionLine: got %q, want %q", got, tt.want)
			}
		})
	}
}
