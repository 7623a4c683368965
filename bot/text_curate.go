package bot

import (
	"fmt"
	"strings"
)

// The presenter's sentences for curation (rename, describe, tags, remove,
// restore, the edit form); see text.go.

const (
	doRename   = "rename requests"
	doDescribe = "describe requests"
	doTag      = "tag requests"
	doEdit     = "edit requests"
	doRemove   = "remove requests"
	doRestore  = "restore requests"
)

func errTooManyTags(n int) error {
	return Errorf(EINVALID, "A request has at most %d tags (that is %d).", MaxTags, n)
}

func (t Text) errTagLimit(id int64) error {
	return &Error{Code: EINVALID, IDs: []int64{id}, Message: fmt.Sprintf("%s would have more than %d tags; nothing was changed.", t.Key(id), MaxTags)}
}

func (t Text) errAlreadyRemoved(id int64) error {
	return &Error{Code: ECONFLICT, IDs: []int64{id}, Message: fmt.Sprintf("%s is already removed.", t.Key(id))}
}

func (t Text) errNotRemoved(id int64) error {
	return &Error{Code: ECONFLICT, IDs: []int64{id}, Message: fmt.Sprintf("%s is not removed.", t.Key(id))}
}

// Renamed confirms a rename.
func (t Text) Renamed(r *EditResult) string {
	if len(r.Edits) == 0 {
		return fmt.Sprintf("%s is already called %q.", t.Key(r.Request.ID), r.Request.Title)
	}
	return fmt.Sprintf("✏️ Renamed %s: %s (was: %s).", t.Key(r.Request.ID), r.Request.Title, r.Edits[0].From)
}

// Described confirms a new description.
func (t Text) Described(r *EditResult) string {
	if len(r.Edits) == 0 {
		return fmt.Sprintf("%s already has that description.", t.Key(r.Request.ID))
	}
	return fmt.Sprintf("✏️ New description for %s.", t.Key(r.Request.ID))
}

// Tagged confirms a tag or untag.
func (t Text) Tagged(r *EditResult) string {
	k := t.Key(r.Request.ID)
	if len(r.Edits) == 0 {
		return fmt.Sprintf("%s's tags are unchanged: %s.", k, t.TagList(r.Request.Tags))
	}
	return fmt.Sprintf("🏷️ %s tags: %s.", k, t.TagList(r.Request.Tags))
}

// Edited confirms a form or API edit.
func (t Text) Edited(r *EditResult) string {
	if len(r.Edits) == 0 {
		return fmt.Sprintf("Nothing changed on %s.", t.Key(r.Request.ID))
	}
	var what []string
	for _, e := range r.Edits {
		switch e.Kind {
		case EditRename:
			what = append(what, "title")
		case EditDescribe:
			what = append(what, "description")
		case EditTags:
			what = append(what, "tags")
		}
	}
	return fmt.Sprintf("✏️ Saved %s (%s).", t.Key(r.Request.ID), strings.Join(what, ", "))
}

// TagList renders tags for chat ("#mobile #ios", or "none").
func (t Text) TagList(tags Tags) string {
	if len(tags) == 0 {
		return "none"
	}
	return "#" + strings.Join(tags, " #")
}

// Removed confirms a remove.
func (t Text) Removed(r *RemoveResult) string {
	s := fmt.Sprintf("🗑️ Removed %s from the board: %s.", t.Key(r.Request.ID), r.Request.Title)
	if r.Edit != nil && r.Edit.Note != "" {
		s += " Reason: " + r.Edit.Note
	}
	return s + fmt.Sprintf(" /feedback restore %s puts it back.", t.Key(r.Request.ID))
}

// Restored confirms a restore.
func (t Text) Restored(r *RemoveResult) string {
	return fmt.Sprintf("♻️ Restored %s: %s.", t.Key(r.Request.ID), r.Request.Title)
}

// EditCommands is what platforms without forms (the console) show for the
// Edit button: the commands that do the same.
func (t Text) EditCommands(r *Request) string {
	k := t.Key(r.ID)
	return fmt.Sprintf("✏️ To edit %s, use:\n/feedback rename %s <title>\n/feedback describe %s <text>\n/feedback tag %s <tag>…   (/feedback untag %s <tag>…)",
		k, k, k, k, k)
}

// editLabel is the label of the card's Edit button.
func (t Text) editLabel() string { return "✏️ Edit" }

// EditForm is the edit form of a request.
func (t Text) EditForm(r *Request) *Form {
	return &Form{
		ID:     FormButtonPrefix + fmt.Sprint(r.ID),
		Title:  "Edit " + t.Key(r.ID),
		Submit: "Save",
		Fields: []FormField{
			{ID: FieldTitle, Label: "Title", Value: r.Title, MaxLength: MaxTitleRunes},
			{ID: FieldDescription, Label: "Description", Value: r.Description, Multiline: true, Optional: true, MaxLength: 3000},
			{ID: FieldTags, Label: "Tags (spaces or commas)", Value: strings.Join(r.Tags, " "), Optional: true, Placeholder: "mobile, billing"},
		},
	}
}

// editHistoryLine renders one edit for /feedback show.
func (t Text) editHistoryLine(e *Edit) string {
	at := e.CreatedAt.Format("2006-01-02 15:04")
	switch e.Kind {
	case EditRename:
		return fmt.Sprintf("%s %s renamed it (was: %s)", at, e.Actor, e.From)
	case EditDescribe:
		return fmt.Sprintf("%s %s changed the description", at, e.Actor)
	case EditTags:
		return fmt.Sprintf("%s %s set the tags to %s", at, e.Actor, t.TagList(strings.Fields(e.To)))
	case EditRemove:
		s := fmt.Sprintf("%s %s removed it", at, e.Actor)
		if e.Note != "" {
			s += " (" + e.Note + ")"
		}
		return s
	case EditRestore:
		return fmt.Sprintf("%s %s restored it", at, e.Actor)
	}
	return at + " " + e.Kind
}

// StatusNotice renders the reply posted in each subscribed thread when a
// request's status changes to s ("🗓️ FB-12 is planned: Dark mode").
func (t Text) StatusNotice(s Status, note string) func(reqs []*Request) string {
	return func(reqs []*Request) string {
		var lines []string
		for _, r := range reqs {
			k := t.Key(r.ID)
			switch s {
			case StatusPlanned:
				lines = append(lines, fmt.Sprintf("🗓️ %s is planned: %s", k, r.Title))
			case StatusInProgress:
				lines = append(lines, fmt.Sprintf("🚧 %s is in progress: %s", k, r.Title))
			case StatusDeclined:
				lines = append(lines, fmt.Sprintf("🙅 %s was declined: %s", k, r.Title))
			case StatusOpen:
				lines = append(lines, fmt.Sprintf("📬 %s is open again: %s", k, r.Title))
			default:
				lines = append(lines, fmt.Sprintf("%s is now %s: %s", k, s, r.Title))
			}
		}
		text := strings.Join(lines, "\n")
		if note = strings.TrimSpace(note); note != "" {
			text += "\n> " + clip(strings.ReplaceAll(note, "\n", " "), 500)
		}
		return text
	}
}

// ParseStatuses reads a comma-separated list of statuses
// (FEEDBACKBOT_NOTIFY_STATUSES): "" is none. EINVALID for an unknown one.
func ParseStatuses(s string) ([]Status, error) {
	out := []Status{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		st := Status(strings.ToLower(strings.ReplaceAll(f, "-", "_")))
		if !st.Valid() {
			return nil, Errorf(EINVALID, "Unknown status %q.", clip(f, 30))
		}
		out = append(out, st)
	}
	return out, nil
}
