package commands

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/feedbackbot/feedbackbot/bot"
)

// MaxInput is the longest command text accepted, in bytes.
const MaxInput = 64 * 1024

// Command is a parsed /feedback command.
type Command struct {
	Verb    string
	IDs     []int64 // request ids named by keys, in order
	Keys    []string
	Into    int64
	Status  bot.Status
	Version string
	Note    string
	Text    string // feedback text (new) or query (search)
	Channel string
	Link    string
	Count   int
	Sort    string
	Tag     string   // list tag:<tag>
	Tags    []string // tag, untag
	Who     []string // the <who> arguments of the person verbs
}

// Verb describes one command for the parser's usage errors and for help.
type Verb struct {
	Name    string
	Usage   string
	Who     string
	Summary string
}

// Verbs is the command table; help is generated from it.
var Verbs = []Verb{
	{"new", "/feedback new <text>  (or just /feedback <text>)", "anyone", "capture text as feedback from you"},
	{"list", "/feedback list [status] [tag:<tag>] [sort demand|new|value]", "anyone", "list requests"},
	{"top", "/feedback top [N]", "anyone", "the N requests with the most demand"},
	{"show", "/feedback show FB-n", "anyone", "request card: title, status, demand, organisations, mentions, duplicates"},
	{"search", "/feedback search <words>", "anyone", "best matching requests"},
	{"vote", "/feedback vote FB-n", "anyone", "add your vote"},
	{"unvote", "/feedback unvote FB-n", "anyone", "remove your vote"},
	{"merge", "/feedback merge FB-a into FB-b", "team", "merge a duplicate into another request"},
	{"unmerge", "/feedback unmerge FB-a", "team", "undo a merge"},
	{"status", "/feedback status FB-n open|planned|in_progress|declined [-- note]", "team", "change status"},
	{"ship", "/feedback ship FB-n… [version] [-- note]", "release lead", "ship and notify every linked thread"},
	{"rollback", "/feedback rollback FB-n… [version] [-- reason]  or  /feedback rollback <version>", "release lead", "roll back and tell the same threads"},
	{"link", "/feedback link FB-n <message link>", "team", "attach an existing chat message"},
	{"rename", "/feedback rename FB-n <title>", "team", "new title (at most 120 characters); the old one stays in the history"},
	{"describe", "/feedback describe FB-n <text>", "team", "new description"},
	{"tag", "/feedback tag FB-n <tag>…", "team", "add tags (a-z, 0-9 and -, at most 32 characters, 10 per request)"},
	{"untag", "/feedback untag FB-n <tag>…", "team", "remove tags"},
	{"remove", "/feedback remove FB-n [-- reason]", "team", "take spam or noise off the board, lists, search and the duplicate check"},
	{"restore", "/feedback restore FB-n", "team", "put a removed request back exactly as it was"},
	{"track", "/feedback track FB-n <GitHub issue or pull request URL | Linear issue URL or ENG-123>", "team", "follow an issue: the request moves with it and ships when it is done"},
	{"untrack", "/feedback untrack FB-n <URL or ENG-123>", "team", "stop following an issue"},
	{"watch", "/feedback watch [#channel]", "team", "capture every new top-level message in a channel"},
	{"unwatch", "/feedback unwatch [#channel]", "team", "stop watching a channel"},
	{"releases", "/feedback releases [#channel] [off]", "team", "read release announcements in a channel"},
	{"same-person", "/feedback same-person <who> <who>", "team", "count two accounts as one person (<who>: a mention, a console name, email:…, slack:U…, discord:…, api:<source>:<user>)"},
	{"split-person", "/feedback split-person <who>", "team", "make an account a person of its own again (undoes same-person)"},
	{"person", "/feedback person <who>", "team", "a person's accounts and requests"},
	{"changelog", "/feedback changelog [version]", "anyone", "the last 5 ships and rollbacks, or every one of a version"},
	{"digest", "/feedback digest [#channel] daily|weekly|off|now", "team", "post new and rising requests and what shipped in a channel on a schedule, or now"},
	{"help", "/feedback help", "anyone", "this help"},
}

func verb(name string) *Verb {
	for i := range Verbs {
		if Verbs[i].Name == name {
			return &Verbs[i]
		}
	}
	return nil
}

// HelpText renders the command table.
func HelpText(prefix string) string {
	var b strings.Builder
	b.WriteString("feedbackbot commands:")
	for _, v := range Verbs {
		b.WriteString("\n  ")
		b.WriteString(withPrefix(v.Usage, prefix))
		b.WriteString(" — ")
		b.WriteString(v.Summary)
		if v.Who != "anyone" {
			b.WriteString(" (" + v.Who + ")")
		}
	}
	return b.String()
}

func withPrefix(s, prefix string) string {
	if prefix == "FB" {
		return s
	}
	return strings.ReplaceAll(s, "FB-", prefix+"-")
}

func usage(name, prefix string) error {
	v := verb(name)
	return bot.Errorf(bot.EINVALID, "Usage: %s", withPrefix(v.Usage, prefix))
}

// Parse parses the text that follows /feedback. Text whose first word is not
// a verb is feedback to capture (verb "new"). Errors are *bot.Error with code
// EINVALID (or ETOOLARGE, ENOTFOUND for keys that cannot exist) and say what
// was expected.
func Parse(prefix, text string) (*Command, error) {
	if len(text) > MaxInput {
		return nil, bot.Errorf(bot.ETOOLARGE, "That command is too long (at most %d characters).", bot.MaxTextRunes)
	}
	text = strings.TrimSpace(strings.ToValidUTF8(text, "\uFFFD"))
	if strings.HasPrefix(strings.ToLower(text), "/feedback") {
		text = strings.TrimSpace(text[len("/feedback"):])
	}
	if text == "" {
		return &Command{Verb: "help"}, nil
	}
	first, rest := cutWord(text)
	name := strings.ToLower(first)
	if verb(name) == nil {
		if err := didYouMean(prefix, text); err != nil {
			return nil, err
		}
		return &Command{Verb: "new", Text: text}, nil
	}
	c := &Command{Verb: name}
	body, note, hasNote := strings.Cut(rest, " --")
	if strings.HasPrefix(rest, "--") {
		body, note, hasNote = "", rest[2:], true
	}
	note = strings.TrimSpace(note)
	args := strings.Fields(body)
	switch name {
	case "help":
		return c, nil
	case "changelog":
		if len(args) > 1 || hasNote {
			return nil, usage(name, prefix)
		}
		if len(args) == 1 {
			c.Version = args[0]
		}
	case "new":
		c.Text = strings.TrimSpace(rest)
		if c.Text == "" {
			return nil, usage(name, prefix)
		}
	case "search":
		c.Text = strings.TrimSpace(rest)
		if c.Text == "" {
			return nil, usage(name, prefix)
		}
	case "list":
		for i := 0; i < len(args); i++ {
			a := strings.ToLower(args[i])
			switch {
			case a == "sort" && i+1 < len(args):
				i++
				c.Sort = strings.ToLower(args[i])
				if c.Sort != bot.SortDemand && c.Sort != bot.SortNew && c.Sort != bot.SortValue {
					return nil, usage(name, prefix)
				}
			case bot.Status(a).Valid() && c.Status == "":
				c.Status = bot.Status(a)
			case strings.HasPrefix(a, "tag:") && c.Tag == "":
				c.Tag = strings.TrimPrefix(strings.TrimPrefix(a, "tag:"), "#")
				if !bot.ValidTag(c.Tag) {
					return nil, bot.Errorf(bot.EINVALID, "%q is not a valid tag: tags are 1 to %d characters of a-z, 0-9 and -.", clip(c.Tag, 40), bot.MaxTagLen)
				}
			case a == "all" && c.Status == "":
			default:
				return nil, usage(name, prefix)
			}
		}
	case "top":
		c.Count = 10
		if len(args) > 1 {
			return nil, usage(name, prefix)
		}
		if len(args) == 1 {
			n, err := strconv.Atoi(args[0])
			if err != nil || n < 1 || n > 100 {
				return nil, bot.Errorf(bot.EINVALID, "Usage: /feedback top [N] with N from 1 to 100.")
			}
			c.Count = n
		}
	case "show", "vote", "unvote", "unmerge":
		if len(args) != 1 || hasNote {
			return nil, usage(name, prefix)
		}
		if err := c.addKey(prefix, args[0]); err != nil {
			return nil, err
		}
	case "merge":
		if len(args) == 2 {
			args = []string{args[0], "into", args[1]}
		}
		if len(args) != 3 || !strings.EqualFold(args[1], "into") || hasNote {
			return nil, usage(name, prefix)
		}
		if err := c.addKey(prefix, args[0]); err != nil {
			return nil, err
		}
		into, err := parseKey(prefix, args[2])
		if err != nil {
			return nil, err
		}
		c.Into = into
	case "status":
		if len(args) != 2 {
			return nil, usage(name, prefix)
		}
		if err := c.addKey(prefix, args[0]); err != nil {
			return nil, err
		}
		c.Status = bot.Status(strings.ToLower(strings.ReplaceAll(args[1], "-", "_")))
		switch c.Status {
		case bot.StatusOpen, bot.StatusPlanned, bot.StatusInProgress, bot.StatusDeclined:
		default:
			return nil, bot.Errorf(bot.EINVALID, "Unknown status %q: use open, planned, in_progress or declined.", clip(args[1], 30))
		}
		c.Note = note
	case "ship", "rollback":
		c.Note = note
		for _, a := range args {
			a = strings.Trim(a, ",;")
			switch {
			case a == "":
			case bot.LooksLikeKey(prefix, a):
				if err := c.addKey(prefix, a); err != nil {
					return nil, err
				}
			case strings.EqualFold(a, "in") || strings.EqualFold(a, "and"):
			case c.Version == "":
				c.Version = a
			default:
				return nil, usage(name, prefix)
			}
		}
		if len(c.IDs) == 0 && (name == "ship" || c.Version == "") {
			return nil, usage(name, prefix)
		}
		if len(c.Version) > 64 {
			return nil, bot.Errorf(bot.EINVALID, "A version can be at most 64 characters.")
		}
	case "rename", "describe":
		key, text := cutWord(rest)
		if key == "" || text == "" {
			return nil, usage(name, prefix)
		}
		if err := c.addKey(prefix, key); err != nil {
			return nil, err
		}
		c.Text = text
	case "tag", "untag":
		if len(args) < 2 || hasNote {
			return nil, usage(name, prefix)
		}
		if err := c.addKey(prefix, args[0]); err != nil {
			return nil, err
		}
		c.Tags = bot.SplitTags(strings.Join(args[1:], " "))
		if len(c.Tags) == 0 {
			return nil, usage(name, prefix)
		}
	case "remove", "restore":
		if len(args) != 1 || (hasNote && name == "restore") {
			return nil, usage(name, prefix)
		}
		if err := c.addKey(prefix, args[0]); err != nil {
			return nil, err
		}
		c.Note = note
	case "link":
		if len(args) != 2 || hasNote {
			return nil, usage(name, prefix)
		}
		if err := c.addKey(prefix, args[0]); err != nil {
			return nil, err
		}
		c.Link = strings.Trim(args[1], "<>")
	case "same-person", "split-person", "person":
		want := 1
		if name == "same-person" {
			want = 2
		}
		if len(args) != want || hasNote {
			return nil, usage(name, prefix)
		}
		c.Who = args
	case "track", "untrack":
		if len(args) != 2 || hasNote {
			return nil, usage(name, prefix)
		}
		if err := c.addKey(prefix, args[0]); err != nil {
			return nil, err
		}
		c.Link = args[1]
	case "digest":
		for _, a := range args {
			switch l := strings.ToLower(a); {
			case c.Text == "" && (l == bot.DigestDaily || l == bot.DigestWeekly || l == bot.DigestOff || l == "now"):
				c.Text = l
			case c.Channel == "" && c.Text == "" && looksLikeChannel(a):
				c.Channel = ChannelID(a)
			default:
				return nil, usage(name, prefix)
			}
		}
		if c.Text == "" || hasNote {
			return nil, usage(name, prefix)
		}
	case "watch", "unwatch", "releases":
		for _, a := range args {
			switch {
			case name == "releases" && strings.EqualFold(a, "off"):
				c.Text = "off"
			case c.Channel == "" && looksLikeChannel(a):
				c.Channel = ChannelID(a)
			default:
				return nil, usage(name, prefix)
			}
		}
		if hasNote {
			return nil, usage(name, prefix)
		}
	}
	return c, nil
}

func (c *Command) addKey(prefix, s string) error {
	id, err := parseKey(prefix, s)
	if err != nil {
		return err
	}
	c.IDs = append(c.IDs, id)
	c.Keys = append(c.Keys, bot.FormatKey(prefix, id))
	return nil
}

func parseKey(prefix, s string) (int64, error) {
	return bot.ParseKey(prefix, strings.Trim(s, ",.;:()[]"))
}

func cutWord(s string) (string, string) {
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

func looksLikeChannel(s string) bool {
	return strings.HasPrefix(s, "#") || strings.HasPrefix(s, "<#")
}

// ChannelID extracts the channel id from "#name", "<#C123|name>" (Slack) or
// "<#123>" (Discord).
func ChannelID(s string) string {
	if strings.HasPrefix(s, "<#") && strings.HasSuffix(s, ">") {
		s = s[2 : len(s)-1]
		if i := strings.IndexByte(s, '|'); i >= 0 {
			s = s[:i]
		}
		return s
	}
	return strings.TrimPrefix(s, "#")
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
