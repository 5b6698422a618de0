package presence_test

import (
	"testing"
	"time"

	"github.com/parleychat/parley/internal/presence"
)

func TestCompute(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	busy := &presence.Preferred{Presence: presence.Presence{Availability: presence.Busy, Activity: presence.ActivityBusy}, Until: now.Add(time.Hour)}
	expired := &presence.Preferred{Presence: busy.Presence, Until: now.Add(-time.Second)}
	idle := 5 * time.Minute
	tests := []struct {
		name string
		s    presence.Sessions
		pref *presence.Preferred
		want presence.Availability
	}{
		{"no connection", presence.Sessions{}, nil, presence.Offline},
		{"no connection, chosen status", presence.Sessions{}, busy, presence.Offline},
		{"connected, active", presence.Sessions{Connections: 1, ActiveAt: now.Add(-time.Minute)}, nil, presence.Available},
		{"connected, idle", presence.Sessions{Connections: 2, ActiveAt: now.Add(-idle)}, nil, presence.Away},
		{"connected, chosen status", presence.Sessions{Connections: 1, ActiveAt: now.Add(-idle)}, busy, presence.Busy},
		{"connected, expired status", presence.Sessions{Connections: 1, ActiveAt: now}, expired, presence.Available},
	}
	for _, tt := range tests {
		if got := presence.Compute(tt.s, tt.pref, now, idle); got.Availability != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got.Availability, tt.want)
		}
	}
}

func TestCheckPreferred(t *testing.T) {
	for _, ok := range [][3]string{{"Available", "Available", ""}, {"Busy", "Busy", "PT1H"}, {"DoNotDisturb", "DoNotDisturb", "P1D"},
		{"BeRightBack", "BeRightBack", "PT30M"}, {"Away", "Away", "P1W"}, {"Offline", "OffWork", "PT5M"}} {
		if _, _, err := presence.CheckPreferred(ok[0], ok[1], ok[2]); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
	for _, bad := range [][3]string{{"Busy", "Available", ""}, {"Offline", "Offline", ""}, {"", "", ""}, {"Busy", "Busy", "PT1M"},
		{"Busy", "Busy", "P31D"}, {"Busy", "Busy", "1h"}, {"Busy", "Busy", "PT"}, {"Busy", "Busy", "P1H"}, {"Busy", "Busy", "PT1D"}} {
		if _, _, err := presence.CheckPreferred(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("%v: accepted", bad)
		}
	}
	if d, err := presence.ParseDuration("P1DT2H3M4S"); err != nil || d != 26*time.Hour+3*time.Minute+4*time.Second {
		t.Errorf("ParseDuration = %v, %v", d, err)
	}
}
