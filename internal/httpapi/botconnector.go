package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/parleychat/parley/internal/app"
	"github.com/parleychat/parley/internal/bot"
	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/graph"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/team"
)

// routesBotFramework registers the Bot Framework side: the bots' token
// endpoint and OpenID metadata, the Connector API under /v3 that bots call
// back, and people's card actions (docs/rules.md §9).
func (a *API) routesBotFramework() {
	a.handle("POST /parley/v1/bots/token", a.botToken)
	a.handle("GET /parley/v1/bots/.well-known/openid-configuration", a.botOpenID)
	a.handle("GET /parley/v1/bots/v2.0/.well-known/openid-configuration", a.botOpenID)
	a.handle("GET /parley/v1/bots/keys", a.botKeys)

	a.handle("POST /v3/conversations", a.botAuthed(a.createBotConversation))
	a.handle("POST /v3/conversations/{id}/activities", a.botAuthed(a.sendBotActivity))
	a.handle("POST /v3/conversations/{id}/activities/{activityId}", a.botAuthed(a.sendBotActivity))
	a.handle("PUT /v3/conversations/{id}/activities/{activityId}", a.botAuthed(a.updateBotActivity))
	a.handle("DELETE /v3/conversations/{id}/activities/{activityId}", a.botAuthed(a.deleteBotActivity))
	a.handle("GET /v3/conversations/{id}/members", a.botAuthed(a.botMembers))
	a.handle("GET /v3/conversations/{id}/members/{memberId}", a.botAuthed(a.botMember))
	a.handle("GET /v3/conversations/{id}/pagedmembers", a.botAuthed(a.botPagedMembers))

	a.handle("POST /parley/v1/chats/{id}/messages/{mid}/cardActions", a.authed(a.cardAction))
	a.handle("POST /parley/v1/teams/{id}/channels/{cid}/messages/{mid}/cardActions", a.authed(a.channelCardAction(false)))
	a.handle("POST /parley/v1/teams/{id}/channels/{cid}/messages/{mid}/replies/{rid}/cardActions", a.authed(a.channelCardAction(true)))
	a.handle("POST /parley/v1/chats/{id}/apps/{appId}/composeExtensionQuery", a.authed(a.composeExtensionQuery))
	a.handle("POST /parley/v1/teams/{id}/channels/{cid}/apps/{appId}/composeExtensionQuery", a.authed(a.composeExtensionQuery))
	a.handle("POST /parley/v1/chats/{id}/apps/{appId}/composeExtensionAction", a.authed(a.composeExtensionAction))
	a.handle("POST /parley/v1/teams/{id}/channels/{cid}/apps/{appId}/composeExtensionAction", a.authed(a.composeExtensionAction))
}

// extensionWhere is the conversation of a message-extension route: the
// chat, or the team's channel.
func extensionWhere(r *http.Request) app.Where {
	if strings.HasPrefix(r.URL.Path, "/parley/v1/teams/") {
		return app.Where{Team: team.ID(r.PathValue("id")), Channel: channelID(r)}
	}
	return app.Where{Chat: chatID(r)}
}

// writeInvokeAnswer writes a bot's answer to an invoke as is ({} when it
// gave none, or nothing JSON).
func writeInvokeAnswer(w http.ResponseWriter, out []byte) error {
	if len(out) == 0 || !json.Valid(out) {
		out = []byte("{}")
	}
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(out)
	return err
}

// composeExtensionQuery runs a message extension's search command: the body
// is the query as Teams sends it ({"commandId","parameters":[{"name","value"}],
// "queryOptions"?}); the answer is the bot's ({"composeExtension":{…}}).
func (a *API) composeExtensionQuery(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		CommandID    string          `json:"commandId"`
		Parameters   json.RawMessage `json:"parameters"`
		QueryOptions json.RawMessage `json:"queryOptions"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.CommandID == "" {
		return errcode.New(errcode.BadRequest, "commandId is required.")
	}
	q, err := json.Marshal(in)
	if err != nil {
		return err
	}
	out, err := a.Apps.MessageExtension(r.Context(), userOf(r), extensionWhere(r), r.PathValue("appId"), app.ExtensionQuery, q)
	if err != nil {
		return err
	}
	return writeInvokeAnswer(w, out)
}

// composeExtensionAction runs a message extension's action command, one
// phase per call: {"commandId","phase":"fetchTask"} asks the bot for its
// task module (composeExtension/fetchTask), {"commandId","phase":
// "submitAction","data":{…}} sends what the person filled in
// (composeExtension/submitAction). The bot's answer is returned as is: a
// task module ({"task":{"type":"continue"|"message",…}}) or a result
// ({"composeExtension":{…}}).
func (a *API) composeExtensionAction(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		CommandID string          `json:"commandId"`
		Phase     string          `json:"phase"`
		Data      json.RawMessage `json:"data"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.CommandID == "" {
		return errcode.New(errcode.BadRequest, "commandId is required.")
	}
	// The invoke's value as Teams sends it from the compose box.
	v := map[string]any{"commandId": in.CommandID, "commandContext": "compose", "context": map[string]string{"theme": "default"}}
	name := app.ExtensionFetch
	switch in.Phase {
	case "fetchTask":
	case "submitAction":
		name = app.ExtensionSubmit
		if len(in.Data) == 0 || string(in.Data) == "null" {
			in.Data = json.RawMessage("{}")
		}
		if in.Data[0] != '{' {
			return errcode.New(errcode.BadRequest, "data must be a JSON object.")
		}
		v["data"] = in.Data
	default:
		return errcode.New(errcode.BadRequest, "phase must be fetchTask or submitAction.")
	}
	q, err := json.Marshal(v)
	if err != nil {
		return err
	}
	out, err := a.Apps.MessageExtension(r.Context(), userOf(r), extensionWhere(r), r.PathValue("appId"), name, q)
	if err != nil {
		return err
	}
	return writeInvokeAnswer(w, out)
}

func (a *API) botBase() string {
	if a.BotBase != nil {
		return a.BotBase()
	}
	return a.PublicURL
}

// botToken is the client-credentials grant bots get Connector tokens from
// (what the SDK's MSAL client asks the login authority). Errors are in the
// OAuth 2 shape, as MSAL reads them.
func (a *API) botToken(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil || !validForm(r.PostForm) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "The body must be a form."})
		return nil
	}
	f := r.PostForm
	if f.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials."})
		return nil
	}
	b, err := a.Apps.AuthenticateBot(r.Context(), f.Get("client_id"), f.Get("client_secret"))
	if err != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "The client id or secret is wrong."})
		return nil
	}
	tok, err := a.BotKeys.ForChannel(a.botBase(), b.ID, f.Get("scope"))
	if err != nil {
		return err
	}
	secs := int(bot.BotTokenTTL.Seconds())
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "access_token": tok, "expires_in": secs, "ext_expires_in": secs})
	return nil
}

func (a *API) botOpenID(w http.ResponseWriter, r *http.Request) error {
	base := strings.TrimRight(a.botBase(), "/")
	iss := bot.Issuer(base)
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token", "jwks_uri": iss + "/keys",
		"end_session_endpoint": iss + "/logout", "response_types_supported": []string{"token"}, "grant_types_supported": []string{"client_credentials"},
		"id_token_signing_alg_values_supported": []string{"RS256"}, "token_endpoint_auth_methods_supported": []string{"client_secret_post"},
	})
	return nil
}

func (a *API) botKeys(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, a.BotKeys.JWKS())
	return nil
}

// botAuthed requires a valid bot token (401 otherwise) and hands the bot on.
func (a *API) botAuthed(h func(w http.ResponseWriter, r *http.Request, b *app.Bot) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := a.BotKeys.CheckChannelToken(a.botBase(), BearerToken(r, false))
		if err != nil {
			return err
		}
		b, err := a.Apps.BotByID(r.Context(), id)
		if err != nil {
			return err
		}
		return h(w, r, &b)
	}
}

// activityBody turns a bot's message activity into a message body: its
// text (textFormat xml: HTML) and its Adaptive Card attachments.
func activityBody(act *bot.Activity) (chat.Body, error) {
	b := chat.Body{ContentType: "text", Content: act.Text}
	if act.TextFormat == "xml" {
		b.ContentType = "html"
	}
	for i, att := range act.Attachments {
		if att.ContentType != chat.AdaptiveCardType {
			return chat.Body{}, errcode.New(errcode.BadRequest, "attachments[%d]: only Adaptive Cards (%s) are supported.", i, chat.AdaptiveCardType)
		}
		b.Attachments = append(b.Attachments, chat.Attachment{ContentType: att.ContentType, Content: string(att.Content)})
	}
	return b, nil
}

func decodeActivity(r *http.Request) (bot.Activity, error) {
	var act bot.Activity
	if err := json.NewDecoder(r.Body).Decode(&act); err != nil {
		return bot.Activity{}, errcode.New(errcode.BadRequest, "The body must be an Activity (JSON).")
	}
	return act, nil
}

func activityID(r *http.Request) (chat.MessageID, bool) {
	n, err := strconv.ParseInt(r.PathValue("activityId"), 10, 64)
	return chat.MessageID(n), err == nil && n > 0
}

// sendBotActivity is send-to-conversation and reply-to-activity: the SDK
// replies to an activity's id and sends proactive messages with a random
// one, so an activity id the conversation does not have is a plain send.
func (a *API) sendBotActivity(w http.ResponseWriter, r *http.Request, b *app.Bot) error {
	act, err := decodeActivity(r)
	if err != nil {
		return err
	}
	if act.Type != "message" {
		// typing and the like: nothing to show.
		writeJSON(w, http.StatusOK, map[string]string{"id": ""})
		return nil
	}
	body, err := activityBody(&act)
	if err != nil {
		return err
	}
	id, _, err := a.Apps.BotSend(r.Context(), b, r.PathValue("id"), body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": graph.MessageIDString(id)})
	return nil
}

func (a *API) updateBotActivity(w http.ResponseWriter, r *http.Request, b *app.Bot) error {
	act, err := decodeActivity(r)
	if err != nil {
		return err
	}
	mid, ok := activityID(r)
	if !ok {
		return errcode.New(errcode.NotFound, "No activity %s of this bot.", r.PathValue("activityId"))
	}
	body, err := activityBody(&act)
	if err != nil {
		return err
	}
	id, err := a.Apps.BotUpdate(r.Context(), b, r.PathValue("id"), mid, body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": graph.MessageIDString(id)})
	return nil
}

// deleteBotActivity answers 200: the SDK throws on 204.
func (a *API) deleteBotActivity(w http.ResponseWriter, r *http.Request, b *app.Bot) error {
	mid, ok := activityID(r)
	if !ok {
		return errcode.New(errcode.NotFound, "No activity %s of this bot.", r.PathValue("activityId"))
	}
	if err := a.Apps.BotDelete(r.Context(), b, r.PathValue("id"), mid); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{})
	return nil
}

func (a *API) botAccounts(r *http.Request, b *app.Bot) ([]bot.Account, error) {
	host, people, err := a.Apps.BotMembers(r.Context(), b, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	out := make([]bot.Account, 0, len(people))
	for i := range people {
		out = append(out, bot.PersonAccount(&people[i], a.Apps.WhoIn(&people[i], host)))
	}
	return out, nil
}

// botMembers is a bare JSON array, as the Connector API answers.
func (a *API) botMembers(w http.ResponseWriter, r *http.Request, b *app.Bot) error {
	out, err := a.botAccounts(r, b)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) botMember(w http.ResponseWriter, r *http.Request, b *app.Bot) error {
	out, err := a.botAccounts(r, b)
	if err != nil {
		return err
	}
	want := bot.ParseUserID(r.PathValue("memberId"))
	for _, m := range out {
		if bot.ParseUserID(m.ID) == want {
			writeJSON(w, http.StatusOK, m)
			return nil
		}
	}
	return errcode.New(errcode.NotFound, "No member %s in this conversation.", r.PathValue("memberId"))
}

func (a *API) botPagedMembers(w http.ResponseWriter, r *http.Request, b *app.Bot) error {
	out, err := a.botAccounts(r, b)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"members": out})
	return nil
}

// createBotConversation opens a bot's 1:1 conversation with one person it
// may reach (proactive messaging), and sends the activity given with it; or,
// with channelData.channel.id, starts a thread in a channel of a team the
// bot is installed in (Teams' way of posting to a channel).
func (a *API) createBotConversation(w http.ResponseWriter, r *http.Request, b *app.Bot) error {
	var in struct {
		IsGroup     bool          `json:"isGroup"`
		Members     []bot.Account `json:"members"`
		Activity    *bot.Activity `json:"activity"`
		TenantID    string        `json:"tenantId"`
		ChannelData struct {
			Channel struct {
				ID string `json:"id"`
			} `json:"channel"`
		} `json:"channelData"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return errcode.New(errcode.BadRequest, "The body must be ConversationParameters (JSON).")
	}
	if ch := in.ChannelData.Channel.ID; ch != "" {
		if in.Activity == nil || in.Activity.Type != "message" {
			return errcode.New(errcode.BadRequest, "A new channel conversation needs a message activity.")
		}
		body, err := activityBody(in.Activity)
		if err != nil {
			return err
		}
		id, conv, err := a.Apps.BotSend(r.Context(), b, ch, body)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, map[string]string{"id": conv, "activityId": graph.MessageIDString(id)})
		return nil
	}
	if in.IsGroup || len(in.Members) != 1 {
		return errcode.New(errcode.BadRequest, "A bot may open 1:1 conversations only: members must name one person.")
	}
	id := in.Members[0].AADObjectID
	if id == "" {
		id = string(bot.ParseUserID(in.Members[0].ID))
	}
	c, err := a.Apps.BotCreateConversation(r.Context(), b, identity.UserID(id))
	if err != nil {
		return err
	}
	out := map[string]string{"id": string(c.ID)}
	if in.Activity != nil && in.Activity.Type == "message" {
		body, err := activityBody(in.Activity)
		if err != nil {
			return err
		}
		mid, _, err := a.Apps.BotSend(r.Context(), b, string(c.ID), body)
		if err != nil {
			return err
		}
		out["activityId"] = graph.MessageIDString(mid)
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// cardAction is a person acting on a bot's Adaptive Card: Action.Submit
// reaches the bot as a message, Action.Execute as an invoke whose answer
// card replaces the message and is returned.
func (a *API) cardAction(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
		Verb string          `json:"verb"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	mid, err := messageID(r)
	if err != nil {
		return err
	}
	card, err := a.Apps.CardAction(r.Context(), userOf(r), chatID(r), mid, in.Type, in.Data, in.Verb)
	if err != nil {
		return err
	}
	out := map[string]any{"card": nil}
	if len(card) > 0 && json.Valid(card) {
		out["card"] = json.RawMessage(card)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// channelCardAction is cardAction on a channel message or reply.
func (a *API) channelCardAction(reply bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
			Verb string          `json:"verb"`
		}
		if err := decode(r, &in); err != nil {
			return err
		}
		replyOf, mid, err := channelMessageIDs(r, reply, true)
		if err != nil {
			return err
		}
		card, err := a.Apps.ChannelCardAction(r.Context(), userOf(r), teamID(r), channelID(r), replyOf, mid, in.Type, in.Data, in.Verb)
		if err != nil {
			return err
		}
		out := map[string]any{"card": nil}
		if len(card) > 0 && json.Valid(card) {
			out["card"] = json.RawMessage(card)
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}
