package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
)

// MessageReferenceType is the content type of the attachment that quotes a
// message in a reply, as Graph writes quoted replies in chats: the
// attachment's id is the quoted message's id, and its content a JSON text
// with the quoted message's id, a preview of its text and its sender.
const MessageReferenceType = "messageReference"

// maxQuotePreview bounds the quoted text a reply keeps.
const maxQuotePreview = 200

// messageReference is the content of a messageReference attachment
// (Graph's shape).
type messageReference struct {
	MessageID      string `json:"messageId"`
	MessagePreview string `json:"messagePreview"`
	MessageSender  struct {
		Application *struct{} `json:"application"`
		Device      *struct{} `json:"device"`
		User        struct {
			ID               string `json:"id"`
			DisplayName      string `json:"displayName"`
			UserIdentityType string `json:"userIdentityType"`
			TenantID         string `json:"tenantId,omitempty"`
		} `json:"user"`
	} `json:"messageSender"`
}

// quote resolves the messageReference attachments of a body sent to a
// chat: at most one, naming a message of this chat that the actor may see
// (within their visible history, not deleted). Its content is written by
// the server from the quoted message, whatever the client sent, so a
// quote never shows text its message does not have. A message the actor
// may not see is answered like one that does not exist. Errors:
// badRequest.
func (s *Service) quote(ctx context.Context, actor *identity.User, members []Member, chatID ID, b Body) (Body, error) {
	b, err := s.fileRefs(ctx, actor, chatID, b)
	if err != nil {
		return Body{}, err
	}
	n := 0
	for i := range b.Attachments {
		a := &b.Attachments[i]
		if a.ContentType != MessageReferenceType {
			continue
		}
		if n++; n > 1 {
			return Body{}, errcode.New(errcode.BadRequest, "A message may quote one message.")
		}
		mid, err := strconv.ParseInt(a.ID, 10, 64)
		if err != nil || mid <= 0 {
			return Body{}, errcode.New(errcode.BadRequest, "A messageReference attachment's id must be the id of the quoted message.")
		}
		q, err := s.Store.FindMessage(ctx, chatID, MessageID(mid))
		me := memberOf(members, actor.ID)
		if errcode.Is(err, errcode.NotFound) || (err == nil && (q.Deleted() || q.CreatedAt.Before(me.VisibleFrom))) {
			return Body{}, errcode.New(errcode.BadRequest, "The quoted message %s is not in this chat.", a.ID)
		}
		if err != nil {
			return Body{}, fmt.Errorf("quote %d: %w", mid, err)
		}
		var ref messageReference
		ref.MessageID = a.ID
		ref.MessagePreview = PreviewText(q.ContentType, q.Content, maxQuotePreview)
		u := &ref.MessageSender.User
		u.ID, u.DisplayName, u.UserIdentityType, u.TenantID = string(q.Sender.ID), q.Sender.DisplayName, q.Sender.IdentityType(actor), string(q.Sender.TenantID)
		content, err := json.Marshal(ref)
		if err != nil {
			return Body{}, fmt.Errorf("quote %d: %w", mid, err)
		}
		a.Content, a.Name = string(content), ""
	}
	return b, nil
}
