package tracker

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
)

// LinearMaxSkew is how far webhookTimestamp may be from now.
const LinearMaxSkew = 60 * time.Second

// linearPayload is the part of Linear's data-change webhook the bot reads.
type linearPayload struct {
	Action           string   `json:"action"`
	Type             string   `json:"type"`
	URL              string   `json:"url"`
	WebhookTimestamp *float64 `json:"webhookTimestamp"`
	Data             struct {
		ID                  string   `json:"id"`
		Identifier          string   `json:"identifier"`
		Title               string   `json:"title"`
		Description         string   `json:"description"`
		URL                 string   `json:"url"`
		PreviousIdentifiers []string `json:"previousIdentifiers"`
		State               struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"state"`
	} `json:"data"`
}

// linearSignatureOK checks Linear-Signature: the hex HMAC-SHA256 of the raw
// body keyed with the webhook secret, no prefix.
func linearSignatureOK(sig string, body []byte, secret string) bool {
	got, err := hex.DecodeString(strings.TrimSpace(sig))
	if err != nil || len(got) != sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// serveLinear is POST /webhooks/linear.
func (s *Service) serveLinear(w http.ResponseWriter, r *http.Request) {
	if s.cfg.LinearSecret == "" {
		http.NotFound(w, r)
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	if !linearSignatureOK(r.Header.Get("Linear-Signature"), body, s.cfg.LinearSecret) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Missing or wrong Linear-Signature."})
		return
	}
	var p linearPayload
	if err := json.Unmarshal(body, &p); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "The body is not a Linear webhook payload."})
		return
	}
	if p.WebhookTimestamp == nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Missing webhookTimestamp."})
		return
	}
	skew := math.Abs(float64(s.cfg.Now().UnixMilli()) - *p.WebhookTimestamp)
	if skew > float64(LinearMaxSkew.Milliseconds()) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Stale webhookTimestamp (more than 60 s from now)."})
		return
	}
	id := r.Header.Get("Linear-Delivery")
	event := p.Type + "." + p.Action
	if p.Type != "Issue" || p.Data.Identifier == "" {
		writeJSON(w, http.StatusOK, &Outcome{Delivery: id, Event: event, Ignored: true, Changes: []ChangeMade{}})
		return
	}
	var state string
	switch p.Action {
	case "create", "update":
		state = p.Data.State.Type
		if categoryOf(state) == pending && state != bot.ItemTriage && state != bot.ItemBacklog && state != bot.ItemUnstarted {
			// A state type this bot does not know: record nothing.
			writeJSON(w, http.StatusOK, &Outcome{Delivery: id, Event: event, Ignored: true, Changes: []ChangeMade{}})
			return
		}
	case "remove":
		state = bot.ItemRemoved
	default:
		writeJSON(w, http.StatusOK, &Outcome{Delivery: id, Event: event, Ignored: true, Changes: []ChangeMade{}})
		return
	}
	if id == "" {
		// Linear names each delivery in Linear-Delivery; without it the
		// signed body (which carries webhookTimestamp) identifies it.
		sum := sha256.Sum256(body)
		id = "body-" + hex.EncodeToString(sum[:16])
	}
	url := p.Data.URL
	if url == "" {
		url = p.URL
	}
	if url == "" {
		url = strings.ToUpper(p.Data.Identifier)
	}
	d := &delivery{source: SourceLinear, id: id, event: event}
	d.items = append(d.items, bot.ItemUpdate{
		Item: bot.LinearItem(p.Data.Identifier), URL: url, Kind: bot.LinkLinear, State: state, Title: p.Data.Title,
		Mentions: s.Keys(p.Data.Title, p.Data.Description),
	})
	// Links made before the issue moved to another team keep its old
	// identifier: update their state too.
	for _, old := range p.Data.PreviousIdentifiers {
		if old != "" && !strings.EqualFold(old, p.Data.Identifier) {
			d.items = append(d.items, bot.ItemUpdate{Item: bot.LinearItem(old), Kind: bot.LinkLinear, State: state})
		}
	}
	out, err := s.process(r.Context(), d)
	if err != nil {
		s.fail(w, SourceLinear, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
