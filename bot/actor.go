package bot

// ActorKind says what kind of caller acts on the board.
type ActorKind string

// Actor kinds. A person acts from chat (or through the API on their
// behalf); the others are services acting with the roles given to them.
const (
	ActorPerson ActorKind = "person"
	ActorAPI    ActorKind = "api"
	ActorGitHub ActorKind = "github"
	ActorLinear ActorKind = "linear"
	ActorDigest ActorKind = "digest"
)

// Identity is who acts as the board counts people: a user id in a workspace
// of a platform. Votes and captured mentions are recorded under it.
type Identity struct {
	Platform  string
	Workspace string
	UserID    string
}

// Actor is the caller of a use case: its identity, display name,
// organisation and resolved roles. Every state-changing method of Engine
// takes one and checks the roles itself.
type Actor struct {
	Kind     ActorKind
	Identity Identity
	// Name is the display name (may be empty; DisplayName falls back).
	Name string
	// Org is the actor's organisation, counted for demand.
	Org string
	// Team and ReleaseLead are the roles: team members curate (merge,
	// status, link, channels, suggestions), release leads ship and roll
	// back. Chat adapters resolve them from platform data.
	Team        bool
	ReleaseLead bool
}

// DisplayName is the name recorded in history rows, mentions (captured_by)
// and decisions: Name, else the user id, else the kind.
func (a Actor) DisplayName() string {
	if a.Name != "" {
		return a.Name
	}
	if a.Identity.UserID != "" {
		return a.Identity.UserID
	}
	return string(a.Kind)
}

// User returns the actor as a chat user (author of what it captures).
func (a Actor) User() User {
	return User{ID: a.Identity.UserID, Name: a.Name, Org: a.Org, Team: a.Team, ReleaseLead: a.ReleaseLead}
}

// PersonActor is a person on platform/workspace, with the roles the
// adapter resolved into u.
func PersonActor(platform, workspace string, u User) Actor {
	return Actor{
		Kind:     ActorPerson,
		Identity: Identity{Platform: platform, Workspace: workspace, UserID: u.ID},
		Name:     u.Name, Org: u.Org, Team: u.Team, ReleaseLead: u.ReleaseLead,
	}
}

// ChatActor is the person who caused a chat event.
func ChatActor(ev *Event) Actor { return PersonActor(ev.Platform, ev.Workspace, ev.User) }

// APIActor is the JSON API acting on its own authority (a write token):
// both roles, named "api".
func APIActor() Actor {
	return Actor{Kind: ActorAPI, Identity: Identity{Platform: PlatformAPI, Workspace: PlatformAPI, UserID: "api"}, Name: "api", Team: true, ReleaseLead: true}
}

// ServiceActor is a service (a webhook, a schedule) acting under name with
// the given roles.
func ServiceActor(kind ActorKind, name string, team, releaseLead bool) Actor {
	return Actor{Kind: kind, Identity: Identity{Platform: string(kind), Workspace: string(kind), UserID: name}, Name: name, Team: team, ReleaseLead: releaseLead}
}

// RequireTeam returns EFORBIDDEN unless a is a team member; what names the
// refused action ("merge requests").
func RequireTeam(a Actor, what string) error {
	if !a.Team {
		return Errorf(EFORBIDDEN, refuseTeam, what)
	}
	return nil
}

// RequireReleaseLead returns EFORBIDDEN unless a is a release lead.
func RequireReleaseLead(a Actor, what string) error {
	if !a.ReleaseLead {
		return Errorf(EFORBIDDEN, refuseLead, what)
	}
	return nil
}
