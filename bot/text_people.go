package bot

import (
	"fmt"
	"strings"
)

// Sentences of the person commands (same-person, split-person, person).

// personIdentities lists a person's identities in the <who> grammar.
func personIdentities(p *Person) string {
	ws := make([]string, 0, len(p.Identities))
	for _, i := range p.Identities {
		ws = append(ws, i.Who())
	}
	return strings.Join(ws, ", ")
}

// SamePerson answers same-person.
func (t Text) SamePerson(r *PersonResult) string {
	if !r.Changed {
		return fmt.Sprintf("Those are already one person: %s.", personIdentities(r.Person))
	}
	return fmt.Sprintf("🧑 Linked as one person: %s. Demand now counts them once; /feedback split-person %s undoes it.",
		personIdentities(r.Person), r.Person.Identities[len(r.Person.Identities)-1].Who())
}

// SplitPerson answers split-person.
func (t Text) SplitPerson(r *PersonResult) string {
	if !r.Changed {
		return fmt.Sprintf("%s is already a person of their own.", r.Who.Who())
	}
	return fmt.Sprintf("✂️ %s is a person of their own again (and will not be linked by email again).", r.Who.Who())
}

// Person answers person: the identities (with emails) and the requests.
func (t Text) Person(r *PersonResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "🧑 %s", r.Who.Who())
	b.WriteString("\nAccounts:")
	for _, i := range r.Person.Identities {
		b.WriteString("\n  • " + i.Who())
		if i.Name != "" && i.Name != i.UserID {
			b.WriteString(" (" + i.Name + ")")
		}
		if i.Email != "" && i.Platform != PlatformEmail {
			b.WriteString(" — " + i.Email)
		}
	}
	if len(r.Person.Requests) == 0 {
		b.WriteString("\nNo requests yet.")
		return b.String()
	}
	b.WriteString("\nRequests:")
	for _, req := range r.Person.Requests {
		b.WriteString("\n  • " + t.RequestLine(req))
	}
	return b.String()
}
