package audit

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Names tells what people call the ids an entry holds. Each method answers
// "" for an id it cannot (or the reader may not) name; Describe then says
// "someone" or "an app" rather than show an id.
type Names interface {
	User(id string) string
	Team(id string) string
	App(id string) string
}

// Described lists every action Describe has a sentence for: all the
// actions Parley records (a test keeps the list and the recorders in step).
var Described = []string{
	FederationConfigurationUpdate, PolicyCreate, PolicyUpdate, PolicyDelete, PolicyGrant,
	ChatExternalCreated, RequestAccepted, RequestDeclined, RequestBlocked, RequestReportedSpam,
	InvitationRedeemed, UserBlocked, UserUnblocked, UserCreated,
	"team.created", "team.memberAdded", "team.memberRolesChanged", "team.memberRemoved", "team.channelCreated", "team.channelDeleted",
	"meeting.externalCreated", "meeting.externalInvited", "meeting.joinedByLink", "meeting.anonymousJoined",
	"meeting.lobbyAdmitted", "meeting.lobbyDenied", "meeting.anonymousRemoved", "meeting.linkRenewed", "meeting.ended", "meeting.over",
	"meetingConfiguration.updated", "fileConfiguration.update",
	"app.upload", "app.update", "app.block", "app.delete", "app.install", "app.upgrade", "app.uninstall",
	"appPermissionPolicy.create", "appPermissionPolicy.update", "appPermissionPolicy.delete", "appPermissionPolicy.grant",
	"appSetupPolicy.create", "appSetupPolicy.update", "appSetupPolicy.delete", "appSetupPolicy.grant",
	"bot.register", "bot.update", "bot.rotateSecret", "bot.delete",
}

// settingNames are the words for the settings and switches entries carry.
var settingNames = map[string]string{
	"allowTeamsConsumer":                "chat with personal accounts",
	"allowTeamsConsumerInbound":         "personal accounts may start chats",
	"allowFederatedUsers":               "chat with other organisations",
	"allowAllKnownDomains":              "all domains allowed (but blocked ones)",
	"allowedDomains":                    "allowed domains",
	"blockedDomains":                    "blocked domains",
	"enableFederationAccess":            "may chat with other organisations",
	"enableTeamsConsumerAccess":         "may chat with personal accounts",
	"enableTeamsConsumerInbound":        "personal accounts may start chats with them",
	"allowAnonymousUsersToJoinMeeting":  "people without an account may join meetings",
	"lobbyBypass":                       "who skips the lobby",
	"anonymousUsersCanInteractWithApps": "people without an account may use apps",
	"allowExternalFileSharing":          "file sharing with people outside the organisation",
	"mode":                              "mode",
	"apps":                              "apps",
	"pinned":                            "pinned apps",
}

// Describe says in one sentence what an entry records, as an admin reads
// it in the audit log: who did what to whom, people, teams and apps by
// name, and for a change only the settings that changed.
func Describe(e *Entry, n Names) string {
	d := e.Details
	str := func(k string) string { s, _ := d[k].(string); return s }
	num := func(k string) int { f, _ := d[k].(float64); i, _ := d[k].(int); return int(f) + i }
	user := func(id string) string {
		if s := n.User(id); s != "" {
			return s
		}
		return "someone"
	}
	// outsider names the other side of a request: always someone outside
	// the organisation, whom the admin may not see.
	outsider := func(id string) string {
		if s := n.User(id); s != "" {
			return s
		}
		return "someone outside the organisation"
	}
	team := func(id string) string {
		if s := n.Team(id); s != "" {
			return "the team " + s
		}
		return "a team"
	}
	app := func(id string) string {
		if s := n.App(id); s != "" {
			return "the app " + s
		}
		return "an app"
	}
	who := "Parley"
	if e.Actor != System {
		who = user(e.Actor)
	}
	var what string
	switch e.Action {
	case FederationConfigurationUpdate:
		what = "changed the external access settings" + changes(d["before"], d["after"])
	case PolicyCreate:
		what = fmt.Sprintf("created the policy %s", e.Target)
	case PolicyUpdate:
		what = fmt.Sprintf("changed the policy %s", e.Target) + changes(d["before"], d["after"])
	case PolicyDelete:
		what = fmt.Sprintf("deleted the policy %s", e.Target) + reset(num("usersReset"))
	case PolicyGrant:
		if e.Target == "Global" {
			what = "put " + people(d["userIds"], user) + " back on the policy Global"
		} else {
			what = fmt.Sprintf("gave the policy %s to %s", e.Target, people(d["userIds"], user))
		}
	case ChatExternalCreated:
		what = "started a chat with people outside the organisation"
	case RequestAccepted:
		what = "accepted a message request from " + outsider(e.Target)
	case RequestDeclined:
		what = "declined a message request from " + outsider(e.Target)
	case RequestBlocked:
		what = "blocked " + outsider(e.Target) + " from a message request"
	case RequestReportedSpam:
		what = "reported a message request from " + outsider(e.Target) + " as spam"
	case InvitationRedeemed:
		what = "joined through an invitation"
	case UserBlocked:
		what = "blocked " + user(e.Target)
	case UserUnblocked:
		what = "unblocked " + user(e.Target)
	case UserCreated:
		kind := "the account"
		if str("userType") == "guest" {
			kind = "the guest account"
		}
		what = fmt.Sprintf("created %s %s", kind, firstOf(n.User(e.Target), str("userPrincipalName")))
	case "team.created":
		what = "created the team " + firstOf(str("displayName"), n.Team(e.Target))
	case "team.memberAdded":
		as := ""
		if d["guest"] == true {
			as = " as a guest"
		} else if hasOwner(d["roles"]) {
			as = " as an owner"
		}
		what = "added " + user(str("userId")) + " to " + team(e.Target) + as
	case "team.memberRolesChanged":
		what = fmt.Sprintf("made %s %s of %s", user(str("userId")), role(d["after"]), team(e.Target))
	case "team.memberRemoved":
		what = "removed " + user(str("userId")) + " from " + team(e.Target)
	case "team.channelCreated":
		what = fmt.Sprintf("created the channel %s in %s", str("displayName"), team(str("teamId")))
	case "team.channelDeleted":
		what = fmt.Sprintf("deleted the channel %s of %s", str("displayName"), team(str("teamId")))
	case "meeting.externalCreated":
		what = fmt.Sprintf("created a meeting with %s outside the organisation", count(num("external"), "person", "people"))
	case "meeting.externalInvited":
		what = "invited someone outside the organisation to a meeting"
	case "meeting.joinedByLink":
		what = "joined a meeting by its link"
	case "meeting.anonymousJoined":
		who = firstOf(str("displayName"), "Someone") + " (Unverified)"
		what = "joined a meeting by its link without an account"
		if str("state") == "lobby" {
			what += " and waited in the lobby"
		}
	case "meeting.lobbyAdmitted":
		what = "let " + firstOf(str("displayName"), "someone") + " (Unverified) into a meeting from the lobby"
	case "meeting.lobbyDenied":
		what = "turned " + firstOf(str("displayName"), "someone") + " (Unverified) away from a meeting's lobby"
	case "meeting.anonymousRemoved":
		what = "removed " + firstOf(str("displayName"), "someone") + " (Unverified) from a meeting"
	case "meeting.linkRenewed":
		what = "renewed a meeting's join link (the old link stopped working)"
	case "meeting.ended", "meeting.over":
		what = "ended a meeting"
		if e.Action == "meeting.over" {
			what = "closed a meeting that was over"
		}
		if k := num("anonymousSessionsEnded"); k > 0 {
			what += fmt.Sprintf(", ending %s without an account", count(k, "session", "sessions"))
		}
	case "meetingConfiguration.updated":
		what = "changed the meeting settings" + changes(d["before"], d["after"])
	case "fileConfiguration.update":
		ch, _ := d["allowExternalFileSharing"].(map[string]any)
		what = "turned file sharing with people outside the organisation " + onOff(ch["to"])
	case "app.upload":
		what = fmt.Sprintf("uploaded the app %s %s", firstOf(str("displayName"), n.App(e.Target)), str("version"))
	case "app.update":
		what = fmt.Sprintf("updated %s from version %s to %s", app(e.Target), str("previousVersion"), str("version"))
	case "app.block":
		what = "blocked " + app(e.Target) + " for the whole organisation"
		if d["blocked"] == false {
			what = "unblocked " + app(e.Target)
		}
	case "app.delete":
		what = "deleted " + app(e.Target) + " from the catalog"
	case "app.install":
		what = "added " + app(e.Target) + " to " + place(str("target"))
	case "app.upgrade":
		what = "upgraded " + app(e.Target) + " in " + place(str("target")) + " to version " + str("version")
	case "app.uninstall":
		what = "removed " + app(e.Target) + " from " + place(str("target"))
	case "bot.register":
		what = "registered the bot " + str("displayName")
	case "bot.update":
		what = "changed the bot " + str("displayName")
	case "bot.rotateSecret":
		what = "made a new secret for a bot (the old one stopped working)"
	case "bot.delete":
		what = "deleted a bot"
	default:
		kind, verb, ok := strings.Cut(e.Action, ".")
		if ok && (kind == "appPermissionPolicy" || kind == "appSetupPolicy") {
			noun := "the app permission policy " + e.Target
			if kind == "appSetupPolicy" {
				noun = "the app setup policy " + e.Target
			}
			switch verb {
			case "create":
				what = "created " + noun
			case "update":
				what = "changed " + noun + changes(d["before"], d["after"])
			case "delete":
				what = "deleted " + noun + reset(num("usersReset"))
			case "grant":
				what = "gave " + noun + " to " + people(d["userIds"], user)
			}
		}
		if what == "" {
			what = "did " + e.Action
			if e.Target != "" {
				what += " (" + e.Target + ")"
			}
		}
	}
	return who + " " + strings.TrimSpace(what) + "."
}

func firstOf(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func reset(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", putting %s back on Global", count(n, "person", "people"))
}

// people names up to three people of a list of user ids, and counts the rest.
func people(v any, user func(string) string) string {
	ids, _ := v.([]any)
	if len(ids) == 0 {
		return "nobody"
	}
	var names []string
	for i, id := range ids {
		if i == 3 {
			names = append(names, count(len(ids)-3, "other", "others"))
			break
		}
		s, _ := id.(string)
		names = append(names, user(s))
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func hasOwner(v any) bool {
	rs, _ := v.([]any)
	for _, r := range rs {
		if r == "owner" {
			return true
		}
	}
	return false
}

func role(v any) string {
	if hasOwner(v) {
		return "an owner"
	}
	return "a member"
}

func place(kind string) string {
	switch kind {
	case "chat":
		return "a chat"
	case "team":
		return "a team"
	case "personal", "user":
		return "their personal apps"
	case "meeting":
		return "a meeting chat"
	}
	return "a conversation"
}

func onOff(v any) string {
	switch v {
	case true:
		return "on"
	case false:
		return "off"
	}
	return show(v)
}

func show(v any) string {
	switch x := v.(type) {
	case bool:
		return onOff(x)
	case nil:
		return "none"
	case string:
		if x == "" {
			return "none"
		}
		return x
	case []any:
		if len(x) == 0 {
			return "none"
		}
		s := make([]string, len(x))
		for i := range x {
			s[i] = show(x[i])
		}
		return strings.Join(s, ", ")
	}
	return fmt.Sprint(v)
}

// changes lists the settings that differ between two maps, as
// ": a on → off; b none → x"; "" when there is no pair.
func changes(before, after any) string {
	b, _ := before.(map[string]any)
	a, _ := after.(map[string]any)
	if a == nil {
		return ""
	}
	keys := make([]string, 0, len(a))
	for k := range a {
		if !reflect.DeepEqual(a[k], b[k]) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return " (nothing changed)"
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %s → %s", firstOf(settingNames[k], k), show(b[k]), show(a[k]))
	}
	return ": " + strings.Join(parts, "; ")
}
