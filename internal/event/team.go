package event

// Event types of teams and channels (docs/rules.md §8). Channel messages
// use MessageCreated, MessageUpdated and MessageDeleted, and team members
// MemberAdded and MemberRemoved, with the team's and channel's ids in the
// payload so clients can route them.
const (
	TeamUpdated    Type = "teamUpdated"
	MemberUpdated  Type = "memberUpdated"
	ChannelCreated Type = "channelCreated"
	ChannelUpdated Type = "channelUpdated"
	ChannelDeleted Type = "channelDeleted"
	ChannelRead    Type = "channelRead"
)
