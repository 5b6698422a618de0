package chat

import "encoding/json"

// validCardJSON reports whether s is a JSON object of type AdaptiveCard.
func validCardJSON(s string) bool {
	var card struct {
		Type string `json:"type"`
	}
	return json.Unmarshal([]byte(s), &card) == nil && card.Type == "AdaptiveCard"
}
