package meeting

import (
	"fmt"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/identity"
)

// TestBypassesLobby checks every setting against every arrival with an
// oracle written as the table of docs/decisions.md "Meetings".
func TestBypassesLobby(t *testing.T) {
	table := map[Bypass]map[Arrival]bool{
		ByOrganizer:    {ArrivesOrganizer: true},
		ByOrganization: {ArrivesOrganizer: true, ArrivesHostMember: true},
		ByEveryone:     {ArrivesOrganizer: true, ArrivesHostMember: true, ArrivesHostGuest: true, ArrivesExternal: true, ArrivesAnonymous: true},
		"":             {},
		"nobody":       {},
	}
	for b, in := range table {
		for a := Arrival(0); a <= ArrivesAnonymous+1; a++ {
			if got := BypassesLobby(b, a); got != in[a] {
				t.Errorf("BypassesLobby(%q, %d) = %v, want %v", b, a, got, in[a])
			}
		}
	}
}

func TestArrivalOfAndMayAdmit(t *testing.T) {
	m := &Meeting{TenantID: "host", OrganizerID: "org"}
	cases := []struct {
		u         identity.User
		want      Arrival
		inMeeting bool
		admits    bool
	}{
		{identity.User{ID: "org", TenantID: "host", Kind: identity.Member}, ArrivesOrganizer, false, true},
		{identity.User{ID: "bob", TenantID: "host", Kind: identity.Member}, ArrivesHostMember, true, true},
		{identity.User{ID: "bob", TenantID: "host", Kind: identity.Member}, ArrivesHostMember, false, false},
		{identity.User{ID: "gus", TenantID: "host", Kind: identity.Guest}, ArrivesHostGuest, true, false},
		{identity.User{ID: "erin", TenantID: "other", Kind: identity.Member}, ArrivesExternal, true, false},
		{identity.User{ID: "pat", Kind: identity.Personal}, ArrivesExternal, true, false},
		{identity.User{ID: "anna", TenantID: "host", Kind: identity.Anonymous}, ArrivesAnonymous, true, false},
		{identity.User{ID: "org", TenantID: "host", Kind: identity.Anonymous}, ArrivesAnonymous, true, false},
	}
	for _, c := range cases {
		if got := ArrivalOf(&c.u, m); got != c.want {
			t.Errorf("ArrivalOf(%s %s) = %d, want %d", c.u.ID, c.u.Kind, got, c.want)
		}
		if got := MayAdmit(&c.u, m, c.inMeeting); got != c.admits {
			t.Errorf("MayAdmit(%s %s, in=%v) = %v, want %v", c.u.ID, c.u.Kind, c.inMeeting, got, c.admits)
		}
	}
}

func TestLinkToken(t *testing.T) {
	for in, want := range map[string]string{
		"https://parley.example/meet/abc_DEF-1":     "abc_DEF-1",
		"https://parley.example/meet/abc?context=x": "abc",
		" abc ":                     "abc",
		"http://h/x/meet/abc/#frag": "abc",
		"":                          "",
	} {
		if got := linkToken(in); got != want {
			t.Errorf("linkToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCleanDisplayName(t *testing.T) {
	for in, ok := range map[string]bool{"Anna": true, " Anna  Lee ": true, "": false, "   ": false, "a\u200bb": false, "a\nb": false,
		fmt.Sprintf("%065d", 0): false, fmt.Sprintf("%064d", 0): true, "\xff": false} {
		if _, err := cleanDisplayName(in); (err == nil) != ok {
			t.Errorf("cleanDisplayName(%q): err %v, want ok=%v", in, err, ok)
		}
	}
}

// TestOver: ended, or its end passed by the grace (the instant of the end
// plus grace included).
func TestOver(t *testing.T) {
	end := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	g := time.Hour
	for _, c := range []struct {
		now   time.Time
		ended bool
		want  bool
	}{
		{end.Add(-time.Hour), false, false},
		{end, false, false},
		{end.Add(g - time.Microsecond), false, false},
		{end.Add(g), false, true},
		{end.Add(48 * time.Hour), false, true},
		{end.Add(-time.Hour), true, true},
	} {
		m := Meeting{End: end}
		if c.ended {
			m.EndedAt = end.Add(-2 * time.Hour)
		}
		if got := m.Over(c.now, g); got != c.want {
			t.Errorf("Over(%v, ended %v) = %v, want %v", c.now, c.ended, got, c.want)
		}
	}
	if got := (&Meeting{End: end}).SessionEnd(g); !got.Equal(end.Add(g)) {
		t.Errorf("SessionEnd = %v", got)
	}
}
