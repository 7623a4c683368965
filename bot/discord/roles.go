package discord

import (
	"context"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/feedbackbot/feedbackbot/bot"
)

// guildRoles maps role ids to roles of one guild.
type guildRoles map[string]roleInfo

type roleInfo struct {
	Name        string
	Permissions int64
}

func rolesOf(rs []*discordgo.Role) guildRoles {
	g := make(guildRoles, len(rs))
	for _, r := range rs {
		if r != nil {
			g[r.ID] = roleInfo{Name: r.Name, Permissions: r.Permissions}
		}
	}
	return g
}

func (a *Adapter) rememberRole(guild string, r *discordgo.Role, deleted bool) {
	if guild == "" || r == nil {
		return
	}
	old, ok := a.roles.Get(guild)
	if !ok {
		return // fetched in full when first needed
	}
	g := make(guildRoles, len(old)+1)
	for k, v := range old {
		g[k] = v
	}
	if deleted {
		delete(g, r.ID)
	} else {
		g[r.ID] = roleInfo{Name: r.Name, Permissions: r.Permissions}
	}
	a.roles.Put(guild, g)
}

// guildRoles returns the roles of guild, fetching them when unknown.
func (a *Adapter) guildRoles(ctx context.Context, guild string) guildRoles {
	if g, ok := a.roles.Get(guild); ok {
		return g
	}
	rs, err := callRetry(ctx, func(opts ...discordgo.RequestOption) ([]*discordgo.Role, error) {
		return a.api.GuildRoles(guild, opts...)
	})
	if err != nil {
		a.log.Warn("fetch guild roles", "guild", guild, "err", err)
		return nil
	}
	g := rolesOf(rs)
	a.roles.Put(guild, g)
	return g
}

const teamPermissions = discordgo.PermissionManageGuild | discordgo.PermissionAdministrator

func isSnowflake(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// hasRole reports whether a member with role ids memberRoles has the
// configured role want, given as an id or a name.
func (a *Adapter) hasRole(ctx context.Context, guild string, memberRoles []string, want string) bool {
	want = strings.TrimSpace(want)
	if want == "" {
		return false
	}
	for _, r := range memberRoles {
		if r == want {
			return true
		}
	}
	if isSnowflake(want) || len(memberRoles) == 0 {
		return false
	}
	want = strings.TrimPrefix(want, "@")
	roles := a.guildRoles(ctx, guild)
	for _, r := range memberRoles {
		if ri, ok := roles[r]; ok && strings.EqualFold(ri.Name, want) {
			return true
		}
	}
	return false
}

// user returns the bot.User for a guild member. perms are the member's
// permissions as an interaction carries them, or -1 when unknown (gateway
// events), in which case they are derived from the guild's roles.
func (a *Adapter) user(ctx context.Context, guild string, u *discordgo.User, m *discordgo.Member, perms int64) bot.User {
	if u == nil && m != nil {
		u = m.User
	}
	out := bot.User{Org: guild}
	if u != nil {
		out.ID = u.ID
		out.Name = u.GlobalName
		if out.Name == "" {
			out.Name = u.Username
		}
	}
	if m == nil {
		return out
	}
	if m.Nick != "" {
		out.Name = m.Nick
	}
	out.Team = a.hasRole(ctx, guild, m.Roles, a.cfg.TeamRole)
	out.ReleaseLead = a.hasRole(ctx, guild, m.Roles, a.cfg.ReleaseRole)
	if !out.Team {
		if perms < 0 {
			perms = 0
			if roles := a.guildRoles(ctx, guild); roles != nil {
				perms = roles[guild].Permissions // @everyone
				for _, r := range m.Roles {
					perms |= roles[r].Permissions
				}
			}
		}
		out.Team = perms&teamPermissions != 0
	}
	return out
}
