package discordtest

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"unicode/utf8"
)

// Route is one REST endpoint: an HTTP method and a path template in the
// OpenAPI spec's form, relative to /api/v{N}.
type Route struct {
	Method   string
	Template string
	// Required lists the request body's required top-level fields (for an
	// array body, those of each item).
	Required []string
}

// BuiltinRoutes are the endpoints the fake implements, with the required
// body fields of Discord's OpenAPI spec (specs/discord/openapi.json, v10).
// They are what the fake validates against when no spec file is given; a
// test checks them against the spec when it is present.
var BuiltinRoutes = []Route{
	{Method: "GET", Template: "/gateway"},
	{Method: "GET", Template: "/gateway/bot"},
	{Method: "GET", Template: "/users/@me"},
	{Method: "PUT", Template: "/applications/{application_id}/commands", Required: []string{"name"}},
	{Method: "PUT", Template: "/applications/{application_id}/guilds/{guild_id}/commands", Required: []string{"name"}},
	{Method: "GET", Template: "/channels/{channel_id}"},
	{Method: "POST", Template: "/channels/{channel_id}/messages"},
	{Method: "GET", Template: "/channels/{channel_id}/messages/{message_id}"},
	{Method: "PATCH", Template: "/channels/{channel_id}/messages/{message_id}"},
	{Method: "PUT", Template: "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me"},
	{Method: "GET", Template: "/guilds/{guild_id}/roles"},
	{Method: "POST", Template: "/interactions/{interaction_id}/{interaction_token}/callback", Required: []string{"type"}},
	{Method: "POST", Template: "/webhooks/{webhook_id}/{webhook_token}"},
	{Method: "PATCH", Template: "/webhooks/{webhook_id}/{webhook_token}/messages/@original"},
	{Method: "DELETE", Template: "/webhooks/{webhook_id}/{webhook_token}/messages/@original"},
}

// Spec is the part of an OpenAPI 3 document the fake validates requests
// with: path templates, methods and JSON request body schemas.
type Spec struct {
	paths   map[string]map[string]map[string]any // template -> method -> operation
	schemas map[string]any
	// routes sorted so that literal segments win over parameters.
	templates []string
}

// LoadSpec reads Discord's OpenAPI document (specs/discord/openapi.json).
func LoadSpec(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	sp := &Spec{paths: make(map[string]map[string]map[string]any), schemas: doc.Components.Schemas}
	for tmpl, item := range doc.Paths {
		ops := make(map[string]map[string]any)
		for m, raw := range item {
			switch m {
			case "get", "put", "post", "patch", "delete":
			default:
				continue
			}
			var op map[string]any
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("parse %s %s: %w", m, tmpl, err)
			}
			ops[strings.ToUpper(m)] = op
		}
		sp.paths[tmpl] = ops
		sp.templates = append(sp.templates, tmpl)
	}
	sortTemplates(sp.templates)
	return sp, nil
}

// sortTemplates orders templates so that, segment by segment, literals
// come before parameters ("@original" before "{message_id}").
func sortTemplates(ts []string) {
	sort.Slice(ts, func(i, j int) bool {
		a, b := strings.Split(ts[i], "/"), strings.Split(ts[j], "/")
		for k := 0; k < len(a) && k < len(b); k++ {
			pa, pb := strings.HasPrefix(a[k], "{"), strings.HasPrefix(b[k], "{")
			if pa != pb {
				return !pa
			}
			if a[k] != b[k] {
				return a[k] < b[k]
			}
		}
		return len(a) < len(b)
	})
}

// matchTemplate reports whether path matches the template, segment by segment.
func matchTemplate(tmpl, path string) bool {
	ts, ps := strings.Split(tmpl, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i := range ts {
		if strings.HasPrefix(ts[i], "{") {
			if ps[i] == "" {
				return false
			}
			continue
		}
		if ts[i] != ps[i] {
			return false
		}
	}
	return true
}

// Match finds the template for path. ok is false when no template matches;
// methodOK is false when one matches but not with this method.
func (sp *Spec) Match(method, path string) (tmpl string, ok, methodOK bool) {
	for _, t := range sp.templates {
		if matchTemplate(t, path) {
			_, m := sp.paths[t][method]
			return t, true, m
		}
	}
	return "", false, false
}

// bodySchema returns the JSON request body schema of an operation.
func (sp *Spec) bodySchema(tmpl, method string) (schema any, required bool) {
	op := sp.paths[tmpl][method]
	rb, _ := op["requestBody"].(map[string]any)
	if rb == nil {
		return nil, false
	}
	content, _ := rb["content"].(map[string]any)
	js, _ := content["application/json"].(map[string]any)
	if js == nil {
		return nil, false
	}
	req, _ := rb["required"].(bool)
	return js["schema"], req
}

// RequiredFields returns the required top-level body fields of an
// operation (of the items, for an array body).
func (sp *Spec) RequiredFields(tmpl, method string) []string {
	s, _ := sp.bodySchema(tmpl, method)
	m := sp.resolve(s)
	if items, ok := m["items"]; ok {
		m = sp.resolve(items)
	}
	out := sp.required(m, 0)
	sort.Strings(out)
	return out
}

// required returns the fields schema m requires; for a union, those every
// alternative requires.
func (sp *Spec) required(m map[string]any, depth int) []string {
	var out []string
	for _, r := range asSlice(m["required"]) {
		if s, ok := r.(string); ok {
			out = append(out, s)
		}
	}
	if depth > 8 {
		return out
	}
	for _, key := range []string{"anyOf", "oneOf"} {
		alts := asSlice(m[key])
		if len(alts) == 0 {
			continue
		}
		count := map[string]int{}
		for _, alt := range alts {
			for _, f := range sp.required(sp.resolve(alt), depth+1) {
				count[f]++
			}
		}
		for f, n := range count {
			if n == len(alts) {
				out = append(out, f)
			}
		}
	}
	return out
}

// ValidateBody checks body against the operation's JSON schema and
// returns the problems found (none when it conforms).
func (sp *Spec) ValidateBody(tmpl, method string, body []byte) []string {
	schema, required := sp.bodySchema(tmpl, method)
	if schema == nil {
		return nil
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		if required {
			return []string{"missing request body"}
		}
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return []string{"body is not JSON: " + err.Error()}
	}
	return sp.validate(schema, v, "$", 0)
}

func (sp *Spec) resolve(s any) map[string]any {
	m, _ := s.(map[string]any)
	for i := 0; i < 32 && m != nil; i++ {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		m, _ = sp.schemas[name].(map[string]any)
	}
	return m
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		if x == math.Trunc(x) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

// validate implements the JSON Schema keywords Discord's spec uses for
// request bodies: $ref, allOf, anyOf, oneOf (as anyOf), type, enum,
// required, properties, items, min/maxItems, min/maxLength, minimum and
// maximum. Unknown properties are allowed, as Discord ignores them.
func (sp *Spec) validate(s any, v any, at string, depth int) []string {
	if depth > 64 {
		return nil
	}
	m := sp.resolve(s)
	if m == nil {
		return nil
	}
	var errs []string
	for _, sub := range asSlice(m["allOf"]) {
		errs = append(errs, sp.validate(sub, v, at, depth+1)...)
	}
	for _, key := range []string{"anyOf", "oneOf"} {
		alts := asSlice(m[key])
		if len(alts) == 0 {
			continue
		}
		var first []string
		ok := false
		for i, alt := range alts {
			e := sp.validate(alt, v, at, depth+1)
			if len(e) == 0 {
				ok = true
				break
			}
			if i == 0 || len(e) < len(first) {
				first = e
			}
		}
		if !ok {
			errs = append(errs, fmt.Sprintf("%s: matches no alternative of %s (closest: %s)", at, key, strings.Join(first, "; ")))
		}
	}
	if t, ok := m["type"]; ok {
		var types []string
		switch x := t.(type) {
		case string:
			types = []string{x}
		case []any:
			for _, y := range x {
				if s, ok := y.(string); ok {
					types = append(types, s)
				}
			}
		}
		got := jsonType(v)
		match := false
		for _, want := range types {
			if want == got || (want == "number" && got == "integer") {
				match = true
			}
		}
		if !match {
			return append(errs, fmt.Sprintf("%s: is %s, want %s", at, got, strings.Join(types, "|")))
		}
	}
	if enum := asSlice(m["enum"]); len(enum) > 0 {
		found := false
		for _, e := range enum {
			if fmt.Sprint(e) == fmt.Sprint(v) {
				found = true
			}
		}
		if !found {
			errs = append(errs, fmt.Sprintf("%s: %v is not one of %v", at, v, enum))
		}
	}
	num := func(key string) (float64, bool) {
		f, ok := m[key].(float64)
		return f, ok
	}
	switch x := v.(type) {
	case map[string]any:
		for _, r := range asSlice(m["required"]) {
			if name, ok := r.(string); ok {
				if _, present := x[name]; !present {
					errs = append(errs, fmt.Sprintf("%s: missing required field %q", at, name))
				}
			}
		}
		props, _ := m["properties"].(map[string]any)
		for k, pv := range x {
			if ps, ok := props[k]; ok {
				errs = append(errs, sp.validate(ps, pv, at+"."+k, depth+1)...)
			}
		}
	case []any:
		if n, ok := num("maxItems"); ok && float64(len(x)) > n {
			errs = append(errs, fmt.Sprintf("%s: %d items, at most %v allowed", at, len(x), n))
		}
		if n, ok := num("minItems"); ok && float64(len(x)) < n {
			errs = append(errs, fmt.Sprintf("%s: %d items, at least %v required", at, len(x), n))
		}
		if items, ok := m["items"]; ok {
			for i, it := range x {
				errs = append(errs, sp.validate(items, it, fmt.Sprintf("%s[%d]", at, i), depth+1)...)
			}
		}
	case string:
		n := utf8.RuneCountInString(x)
		if max, ok := num("maxLength"); ok && float64(n) > max {
			errs = append(errs, fmt.Sprintf("%s: %d characters, at most %v allowed", at, n, max))
		}
		if min, ok := num("minLength"); ok && float64(n) < min {
			errs = append(errs, fmt.Sprintf("%s: %d characters, at least %v required", at, n, min))
		}
	case float64:
		if max, ok := num("maximum"); ok && x > max {
			errs = append(errs, fmt.Sprintf("%s: %v above maximum %v", at, x, max))
		}
		if min, ok := num("minimum"); ok && x < min {
			errs = append(errs, fmt.Sprintf("%s: %v below minimum %v", at, x, min))
		}
	}
	return errs
}
