package bot

import "strings"

// EventFormSubmit: Event.User submitted the form Event.FormID (a Slack
// modal's view_submission, a Discord modal submit) with Event.Values, by
// field id.
const EventFormSubmit EventKind = "form_submit"

// Form is a dialog the bot opens for the one person who pressed a button: a
// Slack modal (views.open) or a Discord modal (interaction response type
// 9). Platforms without forms (the console) show Response.Text instead.
type Form struct {
	// ID comes back as Event.FormID on submit (Slack callback_id, Discord
	// custom_id): at most 100 bytes.
	ID     string
	Title  string // at most 24 characters (Slack's limit)
	Submit string // submit button label
	Fields []FormField
}

// FormField is one text input of a Form.
type FormField struct {
	ID          string // comes back as the key of Event.Values
	Label       string // at most 45 characters (Discord's limit)
	Value       string // prefilled
	Placeholder string
	Multiline   bool
	Optional    bool
	MaxLength   int // 0: the platform's maximum
}

// Form buttons. A button whose action id starts with FormButtonPrefix opens
// a form: adapters answer its click with Response.Form when there is one
// (Discord must answer the click itself with the modal; Slack must open
// it within 3 s of the click with its trigger_id).
const FormButtonPrefix = "edit:"

// IsFormButton reports whether action id opens a form.
func IsFormButton(id string) bool { return strings.HasPrefix(id, FormButtonPrefix) }
