package x

import (
	"encoding/json"

	"github.com/geopulse/geopulse/source"
)

type pageMeta struct {
	Meta struct {
		NextToken string `json:"next_token"`
		NewestID  string `json:"newest_id"`
	} `json:"meta"`
}

// NextToken returns meta.next_token of a search page, which the next
// request passes as next_token to get the next (older) page; "" on the last
// page. The error is an EINVALID
// *geopulse.Error: ReasonMalformedJSON when page is not JSON,
// ReasonInvalidField when it is not an object with a string next_token.
func NextToken(page []byte) (string, error) {
	if e := source.CheckJSON(page, 0); e != nil {
		return "", e
	}
	var m pageMeta
	if err := json.Unmarshal(page, &m); err != nil {
		return "", typeError("X search page", err)
	}
	return m.Meta.NextToken, nil
}

// NewestID returns meta.newest_id of a search page, the since_id of the
// next poll; "" when the page has none or cannot be read, so that a poller
// keeps its previous since_id.
func NewestID(page []byte) string {
	var m pageMeta
	if json.Unmarshal(page, &m) != nil {
		return ""
	}
	return m.Meta.NewestID
}
