package discord

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/feedbackbot/feedbackbot/bot"
)

// CommandName is the slash command; MessageCommandName the message
// (context-menu) command. Both are part of the public interface (README,
// "Commands" and "Install in Discord"): renaming them breaks installations.
const (
	CommandName        = "feedback"
	MessageCommandName = "Send to feedback board"
)

// Option names, part of the public command interface (README "Commands").
// "sort" is the one addition, for
// "/feedback list [status] [sort demand|new]".
const (
	optKey     = "key"
	optKeys    = "keys"
	optInto    = "into"
	optStatus  = "status"
	optVersion = "version"
	optNote    = "note"
	optReason  = "reason"
	optText    = "text"
	optQuery   = "query"
	optChannel = "channel"
	optLink    = "link"
	optCount   = "count"
	optSort    = "sort"
	optTag     = "tag"
	optTags    = "tags"
	// optInterval is digest's daily, weekly, off or now.
	optInterval = "interval"
)

// GroupRequest is the subcommand group of the curation verbs (Discord
// allows 25 subcommands and groups per command): /feedback request rename|
// describe|tag|untag|remove|restore|track|untrack.
const GroupRequest = "request"

// GroupPerson is the subcommand group of the person verbs: /feedback person
// link|split|show (the text verbs same-person, split-person and person).
const GroupPerson = "person"

// Options of the person group.
const (
	optUser  = "user"
	optOther = "other"
)

func strOpt(name, desc string, required bool, choices ...string) *discordgo.ApplicationCommandOption {
	o := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: name, Description: desc, Required: required}
	for _, c := range choices {
		o.Choices = append(o.Choices, &discordgo.ApplicationCommandOptionChoice{Name: c, Value: c})
	}
	return o
}

func sub(name, desc string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
	return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand, Name: name, Description: desc, Options: opts}
}

// applicationCommands returns the commands registered at start.
func applicationCommands() []*discordgo.ApplicationCommand {
	key := func(desc string) *discordgo.ApplicationCommandOption { return strOpt(optKey, desc, true) }
	minCount, maxText := 1.0, bot.MaxTextRunes
	channel := func(desc string) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{
			Type: discordgo.ApplicationCommandOptionChannel, Name: optChannel, Description: desc,
			ChannelTypes: []discordgo.ChannelType{discordgo.ChannelTypeGuildText, discordgo.ChannelTypeGuildNews, discordgo.ChannelTypeGuildForum, discordgo.ChannelTypeGuildMedia},
		}
	}
	text := strOpt(optText, "Your feedback", true)
	text.MaxLength = maxText
	guildOnly := &[]discordgo.InteractionContextType{discordgo.InteractionContextGuild}
	guildInstall := &[]discordgo.ApplicationIntegrationType{discordgo.ApplicationIntegrationGuildInstall}
	return []*discordgo.ApplicationCommand{
		{
			Type:             discordgo.ChatApplicationCommand,
			Name:             CommandName,
			Description:      "Feedback board: capture, vote, merge, ship",
			Contexts:         guildOnly,
			IntegrationTypes: guildInstall,
			Options: []*discordgo.ApplicationCommandOption{
				sub("new", "Capture feedback", text),
				sub("list", "List requests",
					strOpt(optStatus, "Only requests in this status", false, "open", "planned", "in_progress", "shipped", "declined", "rolled_back"),
					strOpt(optSort, "Order", false, "demand", "new", "value"),
					strOpt(optTag, "Only requests with this tag", false)),
				sub("top", "Most wanted requests", &discordgo.ApplicationCommandOption{
					Type: discordgo.ApplicationCommandOptionInteger, Name: optCount, Description: "How many", MinValue: &minCount, MaxValue: 50}),
				sub("show", "Show a request", key("Request key, e.g. FB-12")),
				sub("search", "Search requests", strOpt(optQuery, "Words to look for", true)),
				sub("vote", "Vote for a request", key("Request key")),
				sub("unvote", "Remove your vote", key("Request key")),
				sub("merge", "Merge a duplicate (team)", key("Duplicate request key"), strOpt(optInto, "Request to merge into", true)),
				sub("unmerge", "Undo a merge (team)", key("Merged request key")),
				sub("status", "Change a request's status (team)", key("Request key"),
					strOpt(optStatus, "New status", true, "open", "planned", "in_progress", "declined"), strOpt(optNote, "Note", false)),
				sub("ship", "Ship requests and notify their threads (release lead)",
					strOpt(optKeys, "Request keys, space-separated", true), strOpt(optVersion, "Version", false), strOpt(optNote, "Note", false)),
				sub("rollback", "Roll back shipped requests (release lead)",
					strOpt(optKeys, "Request keys, space-separated (default: all of the version)", false), strOpt(optVersion, "Version", false), strOpt(optReason, "Reason", false)),
				sub("link", "Attach a message to a request (team)", key("Request key"), strOpt(optLink, "Message link", true)),
				sub("watch", "Capture every message of a channel (team)", channel("Channel (default: this one)")),
				sub("unwatch", "Stop capturing a channel (team)", channel("Channel (default: this one)")),
				sub("releases", "Read release announcements in a channel (team)", channel("Channel (default: this one)")),
				sub("changelog", "Recent ships and rollbacks, or those of a version", strOpt(optVersion, "Version", false)),
				sub("digest", "Post new and rising requests and what shipped in a channel (team)",
					strOpt(optInterval, "How often (now: post one at once)", true, "daily", "weekly", "off", "now"),
					channel("Channel (default: this one)")),
				sub("help", "How to use feedbackbot"),
				requestGroup(key),
				personGroup(),
			},
		},
		{
			Type:             discordgo.MessageApplicationCommand,
			Name:             MessageCommandName,
			Contexts:         guildOnly,
			IntegrationTypes: guildInstall,
		},
	}
}

// requestGroup is the "request" subcommand group: the team's curation verbs.
func requestGroup(key func(string) *discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
	title := strOpt(optText, "New title", true)
	title.MaxLength = bot.MaxTitleRunes
	desc := strOpt(optText, "New description", true)
	desc.MaxLength = bot.MaxTextRunes
	tags := func(d string) *discordgo.ApplicationCommandOption { return strOpt(optTags, d, true) }
	return &discordgo.ApplicationCommandOption{
		Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: GroupRequest, Description: "Curate a request (team)",
		Options: []*discordgo.ApplicationCommandOption{
			sub("rename", "Give a request a new title (team)", key("Request key"), title),
			sub("describe", "Give a request a new description (team)", key("Request key"), desc),
			sub("tag", "Add tags to a request (team)", key("Request key"), tags("Tags, space- or comma-separated")),
			sub("untag", "Remove tags from a request (team)", key("Request key"), tags("Tags, space- or comma-separated")),
			sub("remove", "Take a request off the board (team)", key("Request key"), strOpt(optReason, "Reason", false)),
			sub("restore", "Put a removed request back (team)", key("Request key")),
			sub("track", "Follow a GitHub issue or pull request or a Linear issue (team)", key("Request key"),
				strOpt(optLink, "GitHub issue or pull request URL, Linear issue URL or identifier such as ENG-123", true)),
			sub("untrack", "Stop following an issue (team)", key("Request key"), strOpt(optLink, "The URL or identifier that was tracked", true)),
		},
	}
}

// personGroup is the "person" subcommand group: the team links, splits and
// looks up people.
func personGroup() *discordgo.ApplicationCommandOption {
	user := func(desc string) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionUser, Name: optUser, Description: desc, Required: true}
	}
	return &discordgo.ApplicationCommandOption{
		Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: GroupPerson, Description: "Link, split and look up people (team)",
		Options: []*discordgo.ApplicationCommandOption{
			sub("link", "Count two accounts as one person (team)", user("A member"),
				strOpt(optOther, "The same person elsewhere: a mention, email:jane@example.com, slack:U123, api:<source>:<user>", true)),
			sub("split", "Make an account a person of its own again (team)", user("A member")),
			sub("show", "A person's accounts and requests (team)", user("A member")),
		},
	}
}

// personText rebuilds the text command of a "person" group subcommand:
// "same-person <@1> email:jane@example.com", "split-person <@1>",
// "person <@1>".
func personText(s *discordgo.ApplicationCommandInteractionDataOption) (string, error) {
	vals := make(map[string]string, len(s.Options))
	for _, o := range s.Options {
		if o != nil {
			vals[o.Name] = optionString(o)
		}
	}
	u := strings.Fields(vals[optUser])
	if len(u) != 1 {
		return "", bot.Errorf(bot.EINVALID, "Pick a member.")
	}
	who := u[0]
	if !strings.HasPrefix(who, "<@") {
		who = "<@" + who + ">"
	}
	switch s.Name {
	case "link":
		o := strings.Fields(vals[optOther])
		if len(o) != 1 {
			return "", bot.Errorf(bot.EINVALID, "Name the other account in one word: a mention, email:…, slack:U123 or api:<source>:<user>.")
		}
		return "same-person " + who + " " + o[0], nil
	case "split":
		return "split-person " + who, nil
	case "show":
		return "person " + who, nil
	}
	return "", bot.Errorf(bot.EINVALID, "Unknown subcommand %q.", s.Name)
}

// commandText rebuilds the text command the core parses from a /feedback
// subcommand and its options, e.g. "ship FB-1 FB-2 v2.4 -- note".
func commandText(opts []*discordgo.ApplicationCommandInteractionDataOption) (string, error) {
	if len(opts) == 1 && opts[0] != nil && opts[0].Type == discordgo.ApplicationCommandOptionSubCommandGroup {
		g := opts[0]
		if (g.Name != GroupRequest && g.Name != GroupPerson) || len(g.Options) != 1 || g.Options[0] == nil || g.Options[0].Type != discordgo.ApplicationCommandOptionSubCommand {
			return "", bot.Errorf(bot.EINVALID, "Pick a /%s %s subcommand.", CommandName, g.Name)
		}
		if g.Name == GroupPerson {
			return personText(g.Options[0])
		}
		return groupText(g.Options[0])
	}
	if len(opts) != 1 || opts[0] == nil || opts[0].Type != discordgo.ApplicationCommandOptionSubCommand {
		return "", bot.Errorf(bot.EINVALID, "Pick a /%s subcommand.", CommandName)
	}
	s := opts[0]
	vals := make(map[string]string, len(s.Options))
	for _, o := range s.Options {
		if o == nil {
			continue
		}
		vals[o.Name] = optionString(o)
	}
	one := func(name string) string { return strings.Join(strings.Fields(vals[name]), " ") }
	word := func(name string) (string, error) {
		f := strings.Fields(vals[name])
		if len(f) > 1 {
			return "", bot.Errorf(bot.EINVALID, "The %s must be one word.", name)
		}
		return strings.Join(f, ""), nil
	}
	parts := []string{s.Name}
	add := func(v ...string) {
		for _, x := range v {
			if x != "" {
				parts = append(parts, x)
			}
		}
	}
	switch s.Name {
	case "new":
		add(one(optText))
	case "list":
		add(one(optStatus))
		t, err := word(optTag)
		if err != nil {
			return "", err
		}
		if t != "" {
			add("tag:" + strings.TrimPrefix(t, "tag:"))
		}
		if v := one(optSort); v != "" {
			add("sort", v)
		}
	case "top":
		add(one(optCount))
	case "changelog":
		v, err := word(optVersion)
		if err != nil {
			return "", err
		}
		add(v)
	case "show", "vote", "unvote", "unmerge":
		k, err := word(optKey)
		if err != nil {
			return "", err
		}
		add(k)
	case "search":
		add(one(optQuery))
	case "merge":
		k, err := word(optKey)
		if err != nil {
			return "", err
		}
		into, err := word(optInto)
		if err != nil {
			return "", err
		}
		add(k, "into", into)
	case "status":
		k, err := word(optKey)
		if err != nil {
			return "", err
		}
		add(k, one(optStatus))
		if n := one(optNote); n != "" {
			add("--", n)
		}
	case "ship", "rollback":
		add(strings.Fields(strings.ReplaceAll(vals[optKeys], ",", " "))...)
		v, err := word(optVersion)
		if err != nil {
			return "", err
		}
		add(v)
		extra := optNote
		if s.Name == "rollback" {
			extra = optReason
		}
		if n := one(extra); n != "" {
			add("--", n)
		}
	case "link":
		k, err := word(optKey)
		if err != nil {
			return "", err
		}
		l, err := word(optLink)
		if err != nil {
			return "", err
		}
		add(k, l)
	case "watch", "unwatch", "releases":
		if c := one(optChannel); c != "" {
			add("<#" + c + ">")
		}
	case "digest":
		if c := one(optChannel); c != "" {
			add("<#" + c + ">")
		}
		v, err := word(optInterval)
		if err != nil {
			return "", err
		}
		add(v)
	case "help":
	default:
		return "", bot.Errorf(bot.EINVALID, "Unknown subcommand %q.", s.Name)
	}
	return strings.Join(parts, " "), nil
}

// groupText rebuilds the text command of a "request" group subcommand:
// "rename FB-1 <title>", "tag FB-1 ios mobile", "remove FB-1 -- <reason>".
func groupText(s *discordgo.ApplicationCommandInteractionDataOption) (string, error) {
	vals := make(map[string]string, len(s.Options))
	for _, o := range s.Options {
		if o != nil {
			vals[o.Name] = optionString(o)
		}
	}
	k := strings.Fields(vals[optKey])
	if len(k) != 1 {
		return "", bot.Errorf(bot.EINVALID, "The key must be one word.")
	}
	parts := []string{s.Name, k[0]}
	switch s.Name {
	case "rename":
		parts = append(parts, strings.Join(strings.Fields(vals[optText]), " "))
	case "describe":
		parts = append(parts, strings.TrimSpace(vals[optText]))
	case "tag", "untag":
		parts = append(parts, bot.SplitTags(vals[optTags])...)
	case "remove":
		if r := strings.Join(strings.Fields(vals[optReason]), " "); r != "" {
			parts = append(parts, "--", r)
		}
	case "restore":
	case "track", "untrack":
		l := strings.Fields(vals[optLink])
		if len(l) != 1 {
			return "", bot.Errorf(bot.EINVALID, "The link must be one URL or identifier.")
		}
		parts = append(parts, l[0])
	default:
		return "", bot.Errorf(bot.EINVALID, "Unknown subcommand %q.", s.Name)
	}
	return strings.Join(parts, " "), nil
}

// optionString renders an option value: strings as given, numbers without
// a fraction, channel and other ids as their id.
func optionString(o *discordgo.ApplicationCommandInteractionDataOption) string {
	switch v := o.Value.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}
