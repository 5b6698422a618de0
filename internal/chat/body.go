package chat

// CleanBody checks and sanitises a message body as a chat send does
// (docs/rules.md §7: content type, size, valid UTF-8, sanitised HTML,
// Adaptive Card attachments with safe links, mentions of members only),
// for conversations that keep their own members: a team's channels.
// Errors: badRequest.
func (s *Service) CleanBody(b Body, members []Member) (Body, error) {
	return s.clean(b, members)
}
