package slack

import (
	"context"
	"slices"
	"strings"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/slack-go/slack"
)

// resolveUser returns the person behind a Slack user id with their display
// name, organisation and roles (README "Roles"):
//   - Team: a full member of the installing workspace (not a guest, not an
//     external Slack Connect user), or a member of Config.TeamUsergroup;
//   - ReleaseLead: listed in Config.ReleaseLeads, directly or through one of
//     the user groups listed there.
//
// eventTeam is the author's team as the event reported it (user_team), used
// when users.info fails. A failed lookup yields no roles: roles fail closed.
func (a *Adapter) resolveUser(ctx context.Context, id, eventTeam string) bot.User {
	u := bot.User{ID: id, Name: id, Org: eventTeam}
	if id == "" {
		return u
	}
	info, err := a.userInfo(ctx, id)
	if err != nil {
		a.log.Warn("slack users.info failed", "user", id, "err", err)
	} else {
		u.Name = displayName(info)
		if info.TeamID != "" {
			u.Org = info.TeamID
		}
		if self, err := a.identity(ctx); err == nil {
			u.Team = !info.IsRestricted && !info.IsUltraRestricted && !info.IsStranger &&
				!info.Deleted && info.TeamID == self.TeamID
			if u.Org == "" {
				u.Org = self.TeamID
			}
		}
	}
	if !u.Team && a.cfg.TeamUsergroup != "" {
		u.Team = a.inGroup(ctx, a.cfg.TeamUsergroup, id)
	}
	for _, lead := range a.cfg.ReleaseLeads {
		if lead == id || (isGroupID(lead) && a.inGroup(ctx, lead, id)) {
			u.ReleaseLead = true
			break
		}
	}
	return u
}

// userInfo is users.info, cached for userTTL.
func (a *Adapter) userInfo(ctx context.Context, id string) (slack.User, error) {
	if u, ok := a.users.GetAt(id, a.now()); ok {
		return u, nil
	}
	u, err := a.api.GetUserInfoContext(ctx, id)
	if err != nil {
		return slack.User{}, err
	}
	a.users.PutAt(id, *u, a.now())
	a.linkEmail(ctx, *u)
	return *u, nil
}

// inGroup reports whether user is in the user group, with the membership
// cached for groupTTL. A failed lookup counts as not a member.
func (a *Adapter) inGroup(ctx context.Context, group, user string) bool {
	members, ok := a.groups.GetAt(group, a.now())
	if !ok {
		ids, err := a.api.GetUserGroupMembersContext(ctx, group)
		if err != nil {
			a.log.Warn("slack usergroups.users.list failed", "usergroup", group, "err", err)
			return false
		}
		members = make(map[string]bool, len(ids))
		for _, m := range ids {
			members[m] = true
		}
		a.groups.PutAt(group, members, a.now())
	}
	return members[user]
}

// isGroupID reports whether id names a user group (S…) rather than a user.
func isGroupID(id string) bool { return strings.HasPrefix(id, "S") }

// displayName picks the name people see in Slack.
func displayName(u slack.User) string {
	for _, n := range []string{u.Profile.DisplayName, u.Profile.RealName, u.RealName, u.Name} {
		if n = strings.TrimSpace(n); n != "" {
			return n
		}
	}
	return u.ID
}

// ParseReleaseLeads splits SLACK_RELEASE_LEADS ("U1,S2, U3") into ids.
func ParseReleaseLeads(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// linkEmail tells Config.People the profile email of a user just looked up
// (Slack verifies it; it is there with the users:read.email scope), so the
// identity joins the person with that email elsewhere. Failures are logged
// without the address.
func (a *Adapter) linkEmail(ctx context.Context, u slack.User) {
	if a.cfg.People == nil || u.Profile.Email == "" || u.IsBot || u.Deleted {
		return
	}
	self, err := a.identity(ctx)
	if err != nil {
		return
	}
	ref := bot.Identity{Platform: bot.PlatformSlack, Workspace: self.TeamID, UserID: u.ID}
	if _, err := a.cfg.People.SetIdentityEmail(ctx, ref, displayName(u), u.Profile.Email); err != nil {
		a.log.Warn("linking a Slack profile email failed", "user", u.ID, "err", bot.ErrorMessage(err))
	}
}

// IsSharedChannel reports whether a channel is shared with other
// organisations (Slack Connect: conversations.info is_ext_shared or
// is_pending_ext_shared), cached like users. When Slack cannot say, the
// channel counts as shared: redaction fails closed.
func (a *Adapter) IsSharedChannel(ctx context.Context, workspace, channel string) bool {
	if channel == "" {
		return false
	}
	if v, ok := a.shared.GetAt(channel, a.now()); ok {
		return v
	}
	ch, err := a.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: channel})
	if err != nil {
		a.log.Warn("slack conversations.info failed; treating the channel as shared", "channel", channel, "err", err)
		return true
	}
	v := ch.IsExtShared || ch.IsPendingExtShared
	a.shared.PutAt(channel, v, a.now())
	return v
}
