package web

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// checkSchema validates a JSON body against a schema of openapi.json: the
// types, required properties, enums, nullable and, where the schema says
// additionalProperties false, no undocumented properties. It covers the
// subset of OpenAPI 3.0 the document uses.
func checkSchema(t *testing.T, schema, body string) {
	t.Helper()
	var doc struct {
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	s, ok := doc.Components.Schemas[schema]
	if !ok {
		t.Fatalf("no schema %s", schema)
	}
	for _, e := range validate(doc.Components.Schemas, s.(map[string]any), v, "$") {
		t.Errorf("%s: %s", schema, e)
	}
}

func validate(all map[string]any, s map[string]any, v any, at string) []string {
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		rs, ok := all[name].(map[string]any)
		if !ok {
			return []string{at + ": dangling $ref " + ref}
		}
		return validate(all, rs, v, at)
	}
	if v == nil {
		if n, _ := s["nullable"].(bool); n {
			return nil
		}
		return []string{at + ": null is not allowed"}
	}
	var errs []string
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			found = found || fmt.Sprint(e) == fmt.Sprint(v)
		}
		if !found {
			errs = append(errs, fmt.Sprintf("%s: %v is not one of %v", at, v, enum))
		}
	}
	switch s["type"] {
	case "object":
		o, ok := v.(map[string]any)
		if !ok {
			return append(errs, at+": not an object")
		}
		props, _ := s["properties"].(map[string]any)
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if _, ok := o[r.(string)]; !ok {
					errs = append(errs, at+": missing "+r.(string))
				}
			}
		}
		keys := make([]string, 0, len(o))
		for k := range o {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if ap, ok := s["additionalProperties"].(bool); ok && !ap {
					errs = append(errs, at+": undocumented property "+k)
				}
				continue
			}
			errs = append(errs, validate(all, ps, o[k], at+"."+k)...)
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return append(errs, at+": not an array")
		}
		items, _ := s["items"].(map[string]any)
		for i, x := range a {
			if items != nil {
				errs = append(errs, validate(all, items, x, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	case "string":
		if _, ok := v.(string); !ok {
			errs = append(errs, at+": not a string")
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != float64(int64(f)) {
			errs = append(errs, at+": not an integer")
		}
	case "number":
		if _, ok := v.(float64); !ok {
			errs = append(errs, at+": not a number")
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			errs = append(errs, at+": not a boolean")
		}
	}
	return errs
}

// TestCheckSchema shows that checkSchema can fail.
func TestCheckSchema(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	json.Unmarshal(openAPIDoc, &doc)
	s := doc.Components.Schemas["ReleaseList"].(map[string]any)
	for body, want := range map[string]string{
		`{"releases":[],"total":1}`: "missing health",
		`{"releases":[],"total":1.5,"health":{"releases":1,"rolled_back":0,"rollback_rate":0,"median_time_to_rollback_s":null}}`:                                                                         "not an integer",
		`{"releases":[{"id":1,"action":"deployed","version":"","note":"","at":"x","requests":[]}],"total":1,"health":{"releases":1,"rolled_back":0,"rollback_rate":0,"median_time_to_rollback_s":null}}`: "is not one of",
		`{"releases":[],"total":1,"extra":true,"health":{"releases":1,"rolled_back":0,"rollback_rate":0,"median_time_to_rollback_s":null}}`:                                                              "undocumented property extra",
	} {
		var v any
		json.Unmarshal([]byte(body), &v)
		errs := strings.Join(validate(doc.Components.Schemas, s, v, "$"), "; ")
		if !strings.Contains(errs, want) {
			t.Errorf("%s: errors %q, want %q", body, errs, want)
		}
	}
}
