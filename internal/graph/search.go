package graph

import (
	"strconv"

	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/search"
)

// SearchResource is a chatMessage in a search hit, typed as Graph types it.
type SearchResource struct {
	ODataType string `json:"@odata.type"`
	Message
	// ChatID is the chat's id; null for a channel message, which names its
	// team and channel in channelIdentity instead (as Graph's channel
	// messages do).
	ChatID          *string          `json:"chatId"`
	ChannelIdentity *ChannelIdentity `json:"channelIdentity,omitempty"`
}

// SearchHit is Graph's searchHit.
type SearchHit struct {
	HitID    string         `json:"hitId"`
	Rank     int            `json:"rank"`
	Summary  string         `json:"summary"`
	Resource SearchResource `json:"resource"`
}

// HitsContainer is Graph's searchHitsContainer.
type HitsContainer struct {
	Hits                 []SearchHit `json:"hits"`
	Total                int         `json:"total"`
	MoreResultsAvailable bool        `json:"moreResultsAvailable"`
}

// SearchResponse is Graph's searchResponse.
type SearchResponse struct {
	SearchTerms             []string        `json:"searchTerms"`
	HitsContainers          []HitsContainer `json:"hitsContainers"`
	QueryAlterationResponse *struct{}       `json:"queryAlterationResponse"`
}

// NewSearchHits converts a page of hits as seen by viewer.
func NewSearchHits(res *search.Result, viewer *identity.User) []SearchHit {
	out := make([]SearchHit, len(res.Hits))
	for i := range res.Hits {
		h := &res.Hits[i]
		res := SearchResource{ODataType: "#microsoft.graph.chatMessage", Message: NewMessage(&h.Message, viewer)}
		if h.TeamID != "" {
			res.ChannelIdentity = &ChannelIdentity{TeamID: h.TeamID, ChannelID: string(h.Message.ChatID)}
		} else {
			id := string(h.Message.ChatID)
			res.ChatID = &id
		}
		out[i] = SearchHit{HitID: strconv.FormatInt(int64(h.Message.ID), 10), Rank: h.Rank, Summary: h.Summary, Resource: res}
	}
	return out
}

// NewSearchResponse converts a result to Graph's searchResponse.
func NewSearchResponse(res *search.Result, viewer *identity.User) SearchResponse {
	terms := res.Terms
	if terms == nil {
		terms = []string{}
	}
	return SearchResponse{SearchTerms: terms, HitsContainers: []HitsContainer{{Hits: NewSearchHits(res, viewer), Total: res.Total, MoreResultsAvailable: res.More}}}
}
