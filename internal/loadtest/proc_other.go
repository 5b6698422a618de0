//go:build !linux

package loadtest

import (
	"errors"
	"os/exec"
	"time"
)

var errNoProc = errors.New("process figures need Linux /proc")

func rss(int) (int64, error)             { return 0, errNoProc }
func cpuTime(int) (time.Duration, error) { return 0, errNoProc }
func raiseNoFile() (uint64, error)       { return 0, nil }
func dieWithParent(*exec.Cmd)            {}
func cpuModel() string                   { return "" }
func loadAvg() string                    { return "" }

func selfCPU() time.Duration { return 0 }

func cpusAllowed(int) string { return "" }
