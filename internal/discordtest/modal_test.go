package discordtest

import (
	"encoding/json"
	"strings"
	"testing"
)

func modalBody(title string, inputs ...string) string {
	var rows []string
	for _, in := range inputs {
		rows = append(rows, `{"type":1,"components":[`+in+`]}`)
	}
	return `{"type":9,"data":{"custom_id":"edit:12","title":"` + title + `","components":[` + strings.Join(rows, ",") + `]}}`
}

const (
	titleInput = `{"type":4,"custom_id":"title","label":"Title","style":1,"value":"Dark mode","max_length":120}`
	descInput  = `{"type":4,"custom_id":"description","label":"Description","style":2,"required":false}`
)

// TestModal answers a button interaction with a modal (callback type 9),
// validated against the spec and Discord's limits, and submits it (an
// interaction of type 5 carrying the values and the button's message).
func TestModal(t *testing.T) {
	for _, withSpec := range []bool{false, true} {
		name := "builtin"
		if withSpec {
			name = "spec"
		}
		t.Run(name, func(t *testing.T) {
			s := testServer(t, withSpec)
			api := s.URL() + "/api/v10"
			who := Member{User: &User{ID: "7", Username: "alice"}}
			cb := func(id string) string {
				s.mu.Lock()
				defer s.mu.Unlock()
				return api + "/interactions/" + id + "/" + s.interactions[id].Token + "/callback"
			}
			// Refused shapes: too long a title, a button in a modal, six rows, a bad style.
			for _, body := range []string{
				modalBody(strings.Repeat("x", 46), titleInput),
				modalBody("Edit", `{"type":2,"custom_id":"b","label":"b","style":1}`),
				modalBody("Edit", titleInput, titleInput),
				modalBody("Edit", strings.Repeat(descInput+"]},{\"type\":1,\"components\":[", 5)+descInput),
				modalBody("Edit", `{"type":4,"custom_id":"t","label":"T","style":3}`),
			} {
				id, err := s.RawInteraction(3, "10", who, map[string]any{"component_type": 2, "custom_id": "edit:12"})
				if err != nil {
					t.Fatal(err)
				}
				if st, b := do(t, "POST", cb(id), body); st != 400 {
					t.Errorf("modal %s: %d %s, want 400", body, st, b)
				}
			}
			if len(s.Modals()) != 0 {
				t.Fatalf("refused modals recorded: %+v", s.Modals())
			}
			id, err := s.RawInteraction(3, "10", who, map[string]any{"component_type": 2, "custom_id": "edit:12"})
			if err != nil {
				t.Fatal(err)
			}
			if st, b := do(t, "POST", cb(id), modalBody("Edit FB-12", titleInput, descInput)); st != 204 {
				t.Fatalf("modal: %d %s", st, b)
			}
			ms := s.Modals()
			if len(ms) != 1 || ms[0].CustomID != "edit:12" || len(ms[0].Inputs) != 2 || ms[0].Inputs[0].Value != "Dark mode" {
				t.Fatalf("modals %+v", ms)
			}
			sub, err := s.SubmitModal(id, map[string]string{"description": "At night"})
			if err != nil {
				t.Fatal(err)
			}
			s.mu.Lock()
			in := s.interactions[sub]
			s.mu.Unlock()
			if in == nil || in.Type != 5 {
				t.Fatalf("submit interaction %+v", in)
			}
			// A modal submit may not be answered with another modal.
			if st, _ := do(t, "POST", cb(sub), modalBody("Again", titleInput)); st != 400 {
				t.Fatalf("modal answering a modal submit: %d", st)
			}
			if _, err := s.SubmitModal(id, map[string]string{"nope": "x"}); err == nil {
				t.Fatal("unknown input accepted")
			}
			if _, err := s.SubmitModal(id, map[string]string{"title": ""}); err == nil {
				t.Fatal("empty required input accepted")
			}
			if _, err := s.SubmitModal(id, map[string]string{"title": strings.Repeat("x", 121)}); err == nil {
				t.Fatal("input over max_length accepted")
			}
			// The submit's data as the bot would read it.
			var data struct {
				CustomID   string `json:"custom_id"`
				Components []struct {
					Components []struct {
						CustomID string `json:"custom_id"`
						Value    string `json:"value"`
					} `json:"components"`
				} `json:"components"`
			}
			raw, _ := json.Marshal(s.lastSubmitData(sub))
			if err := json.Unmarshal(raw, &data); err != nil {
				t.Fatal(err)
			}
			if data.CustomID != "edit:12" || data.Components[0].Components[0].Value != "Dark mode" || data.Components[1].Components[0].Value != "At night" {
				t.Fatalf("submit data %s", raw)
			}
		})
	}
}
