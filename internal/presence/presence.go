// Package presence holds docs/rules.md §7's presence: whether a person is
// available, away or offline, from their open connections (events
// WebSockets, on any node) and their activity, or the status they chose
// (Graph's preferred presence); and who may see it: themselves, their
// own organisation, and the people who share an accepted chat with them.
// An external person sees it only once a chat between them is accepted
// (docs/rules.md §5: nothing of a pending target reaches the sender, nor
// of a sender before the target accepts), and someone who blocked the
// viewer shows as offline (§4 silence). It is a domain package: no SQL,
// no HTTP; realtime reports connections to the Tracker, which keeps them
// in the store so every node sees every node's.
package presence

import (
	"strings"
	"time"

	"github.com/parleychat/parley/internal/errcode"
)

// Availability and Activity are Graph's presence values.
type (
	Availability string
	Activity     string
)

// Availabilities.
const (
	Available       Availability = "Available"
	Away            Availability = "Away"
	BeRightBack     Availability = "BeRightBack"
	Busy            Availability = "Busy"
	DoNotDisturb    Availability = "DoNotDisturb"
	Offline         Availability = "Offline"
	PresenceUnknown Availability = "PresenceUnknown"
)

// Activities.
const (
	ActivityAvailable    Activity = "Available"
	ActivityAway         Activity = "Away"
	ActivityBeRightBack  Activity = "BeRightBack"
	ActivityBusy         Activity = "Busy"
	ActivityDoNotDisturb Activity = "DoNotDisturb"
	ActivityOffline      Activity = "Offline"
	ActivityOffWork      Activity = "OffWork"
	ActivityUnknown      Activity = "PresenceUnknown"
)

// Presence is what a viewer is shown.
type Presence struct {
	Availability Availability
	Activity     Activity
}

// Unknown is the presence of someone whose presence the viewer may not see.
var Unknown = Presence{PresenceUnknown, ActivityUnknown}

// offline is the presence of someone with no connection.
var offline = Presence{Offline, ActivityOffline}

// Preferred is the status a person chose, until it expires.
type Preferred struct {
	Presence
	Until time.Time
}

// Sessions is what the store knows of a person's connections: how many
// are open on live nodes and when they were last active.
type Sessions struct {
	Connections int
	ActiveAt    time.Time
}

// Compute decides a person's presence: offline without a connection
// (a chosen status applies only while one is open, as in Graph); else
// their chosen status while it lasts; else available, or away after idle
// without activity.
func Compute(s Sessions, pref *Preferred, now time.Time, idle time.Duration) Presence {
	if s.Connections <= 0 {
		return offline
	}
	if pref != nil && now.Before(pref.Until) {
		return pref.Presence
	}
	if now.Sub(s.ActiveAt) >= idle {
		return Presence{Away, ActivityAway}
	}
	return Presence{Available, ActivityAvailable}
}

// preferable are the combinations Graph's setUserPreferredPresence takes.
var preferable = map[Availability]Activity{
	Available:    ActivityAvailable,
	Busy:         ActivityBusy,
	DoNotDisturb: ActivityDoNotDisturb,
	BeRightBack:  ActivityBeRightBack,
	Away:         ActivityAway,
	Offline:      ActivityOffWork,
}

// Limits of a chosen status.
const (
	DefaultPreferredFor = 7 * 24 * time.Hour
	MaxPreferredFor     = 30 * 24 * time.Hour
)

// CheckPreferred validates a chosen status (Graph's pairs: Available,
// Busy, DoNotDisturb, BeRightBack, Away with the same activity, Offline
// with OffWork) and its ISO 8601 duration ("" for the default). Errors:
// badRequest.
func CheckPreferred(availability, activity, duration string) (Presence, time.Duration, error) {
	want, ok := preferable[Availability(availability)]
	if !ok || Activity(activity) != want {
		return Presence{}, 0, errcode.New(errcode.BadRequest, "availability and activity must be one of Available/Available, Busy/Busy, DoNotDisturb/DoNotDisturb, BeRightBack/BeRightBack, Away/Away, Offline/OffWork.")
	}
	d := DefaultPreferredFor
	if duration != "" {
		var err error
		if d, err = ParseDuration(duration); err != nil || d < 5*time.Minute || d > MaxPreferredFor {
			return Presence{}, 0, errcode.New(errcode.BadRequest, "expirationDuration must be an ISO 8601 duration from PT5M to P30D.")
		}
	}
	return Presence{Availability(availability), want}, d, nil
}

// ParseDuration reads an ISO 8601 duration of days, hours, minutes and
// seconds (P1D, PT1H30M, PT90S).
func ParseDuration(s string) (time.Duration, error) {
	bad := errcode.New(errcode.BadRequest, "%q is not an ISO 8601 duration.", s)
	rest, ok := strings.CutPrefix(strings.ToUpper(s), "P")
	if !ok || rest == "" {
		return 0, bad
	}
	var d time.Duration
	inTime := false
	n, digits := 0, 0
	for _, r := range rest {
		switch {
		case r >= '0' && r <= '9':
			if n > 1_000_000 {
				return 0, bad
			}
			n, digits = n*10+int(r-'0'), digits+1
			continue
		case r == 'T' && !inTime && digits == 0:
			inTime = true
			continue
		}
		if digits == 0 {
			return 0, bad
		}
		switch {
		case r == 'D' && !inTime:
			d += time.Duration(n) * 24 * time.Hour
		case r == 'W' && !inTime:
			d += time.Duration(n) * 7 * 24 * time.Hour
		case r == 'H' && inTime:
			d += time.Duration(n) * time.Hour
		case r == 'M' && inTime:
			d += time.Duration(n) * time.Minute
		case r == 'S' && inTime:
			d += time.Duration(n) * time.Second
		default:
			return 0, bad
		}
		n, digits = 0, 0
	}
	if digits != 0 || d == 0 {
		return 0, bad
	}
	return d, nil
}
