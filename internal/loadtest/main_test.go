package loadtest_test

import (
	"os"
	"testing"

	"github.com/parleychat/parley/internal/loadtest"
)

// TestMain lets the test binary serve as the ceiling process, as
// cmd/parley-load does.
func TestMain(m *testing.M) {
	if loadtest.ServeCeilingChild() {
		return
	}
	os.Exit(m.Run())
}
