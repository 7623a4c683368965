package web

import (
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// TestAPICuration: PATCH /api/v1/requests/{key}, …/remove, …/restore and
// ?tag=, on both databases.
func TestAPICuration(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		env := newEnvDSN(t, dsn)
		seed(env)

		// Edit: title and tags; tags come back lowercased and sorted.
		v := env.mustWrite(200, "PATCH", "/api/v1/requests/FB-1", `{"title":"Dark mode","tags":["UI","mobile"]}`)
		req := v["request"].(map[string]any)
		if req["title"] != "Dark mode" || strings.Join(toStrings(req["tags"]), ",") != "mobile,ui" || req["removed"] != false {
			t.Fatalf("after PATCH: %v", v)
		}
		if msg, _ := v["message"].(string); !strings.Contains(msg, "Saved FB-1 (title, tags)") {
			t.Fatalf("message %q", v["message"])
		}
		// A merged key edits the request it was merged into.
		env.mustWrite(200, "PATCH", "/api/v1/requests/FB-3", `{"description":"Reports as CSV files."}`)
		if d := env.getJSON("/api/v1/requests/FB-2"); d["request"].(map[string]any)["description"] != "Reports as CSV files." {
			t.Fatalf("FB-2 after PATCH of FB-3: %v", d["request"])
		}
		// Refusals change nothing.
		for _, c := range []struct{ body, code string }{
			{`{"name":"x"}`, "invalid"},
			{`{"title":"` + strings.Repeat("x", 121) + `"}`, "invalid"},
			{`{"title":"ok","tags":["not_ok"]}`, "invalid"},
			{`{"tags":["a","b","c","d","e","f","g","h","i","j","k"]}`, "invalid"},
			{`{}`, "invalid"},
			{`{"title":""}`, "invalid"},
		} {
			r := env.write("PATCH", "/api/v1/requests/FB-1", c.body)
			if r.Code != 400 || r.ErrorCode(t) != c.code {
				t.Errorf("PATCH %s: %d %s", c.body, r.Code, r.Body)
			}
		}
		if r := env.do("PATCH", "/api/v1/requests/FB-1", `{"title":"x"}`); r.Code != 401 {
			t.Errorf("PATCH without the token: %d", r.Code)
		}
		if r := env.write("PATCH", "/api/v1/requests/FB-99", `{"title":"x"}`); r.Code != 404 {
			t.Errorf("PATCH FB-99: %d", r.Code)
		}
		d := env.getJSON("/api/v1/requests/FB-1")
		if r := d["request"].(map[string]any); r["title"] != "Dark mode" || len(toStrings(r["tags"])) != 2 {
			t.Fatalf("refused PATCHes changed FB-1: %v", r)
		}

		// ?tag=
		if got := keysOf(t, env.getJSON("/api/v1/requests?tag=ui")); strings.Join(got, ",") != "FB-1" {
			t.Fatalf("?tag=ui: %v", got)
		}
		if got := keysOf(t, env.getJSON("/api/v1/requests?tag=ui&status=planned")); len(got) != 0 {
			t.Fatalf("?tag=ui&status=planned: %v", got)
		}
		if got := keysOf(t, env.getJSON("/api/v1/requests?tag=mobile&q=dark")); strings.Join(got, ",") != "FB-1" {
			t.Fatalf("?tag=mobile&q=dark: %v", got)
		}
		if r := env.do("GET", "/api/v1/requests?tag=Not_OK", ""); r.Code != 400 {
			t.Fatalf("?tag=Not_OK: %d", r.Code)
		}

		// The board: tag chips linking to the tag filter, and /?tag=.
		board := env.do("GET", "/", "")
		if !strings.Contains(board.Body, `<a class="chip" href="/?tag=ui">#ui</a>`) {
			t.Fatalf("board without FB-1's chips:\n%s", board.Body)
		}
		tagged := env.do("GET", "/?tag=ui", "")
		if !strings.Contains(tagged.Body, ">Dark mode</a>") || strings.Contains(tagged.Body, "Export reports to CSV") || !strings.Contains(tagged.Body, "tagged <span class=\"chip\">#ui</span>") {
			t.Fatalf("/?tag=ui:\n%s", tagged.Body)
		}
		if !strings.Contains(tagged.Body, `href="/?status=planned&amp;tag=ui"`) {
			t.Errorf("status tabs drop the tag filter:\n%s", tagged.Body)
		}

		// Remove: off the lists and search, still answered by key.
		v = env.mustWrite(200, "POST", "/api/v1/requests/FB-1/remove", `{"reason":"noise"}`)
		if v["request"].(map[string]any)["removed"] != true {
			t.Fatalf("remove: %v", v)
		}
		for _, path := range []string{"/api/v1/requests", "/api/v1/requests?tag=ui", "/api/v1/requests?q=dark"} {
			for _, k := range keysOf(t, env.getJSON(path)) {
				if k == "FB-1" {
					t.Fatalf("%s lists the removed FB-1", path)
				}
			}
		}
		d = env.getJSON("/api/v1/requests/FB-1")
		if d["request"].(map[string]any)["removed"] != true {
			t.Fatalf("GET removed: %v", d["request"])
		}
		if r := env.write("POST", "/api/v1/requests/FB-1/remove", ``); r.Code != 409 || r.ErrorCode(t) != "conflict" {
			t.Fatalf("remove twice: %d %s", r.Code, r.Body)
		}
		if r := env.write("POST", "/api/v1/requests/FB-1/remove", `{"why":"x"}`); r.Code != 400 {
			t.Fatalf("remove with an unknown field: %d", r.Code)
		}

		// Restore takes an empty body or {}.
		if r := env.write("POST", "/api/v1/requests/FB-1/restore", `{"x":1}`); r.Code != 400 {
			t.Fatalf("restore with a field: %d", r.Code)
		}
		v = env.mustWrite(200, "POST", "/api/v1/requests/FB-1/restore", ``)
		if r := v["request"].(map[string]any); r["removed"] != false || r["demand"].(float64) != 4 {
			t.Fatalf("restore: %v", v)
		}
		if r := env.write("POST", "/api/v1/requests/FB-1/restore", `{}`); r.Code != 409 {
			t.Fatalf("restore twice: %d %s", r.Code, r.Body)
		}
		env.mustWrite(200, "POST", "/api/v1/requests/FB-4/remove", `{}`)
		env.mustWrite(200, "POST", "/api/v1/requests/FB-4/restore", `{}`)

		// The request page shows the edit history.
		page := env.do("GET", "/requests/FB-1", "")
		for _, want := range []string{"Edit history", "Renamed from “<bdi>Dark mode for the dashboard</bdi>” to “<bdi>Dark mode</bdi>”", "Removed from the board", "Restored to the board", `<span class="chip">#mobile</span>`} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("request page lacks %q", want)
			}
		}

		// The edit history.
		d = env.getJSON("/api/v1/requests/FB-1")
		var kinds []string
		for _, e := range d["edits"].([]any) {
			e := e.(map[string]any)
			kinds = append(kinds, e["kind"].(string))
			if e["actor"] != "api" {
				t.Errorf("edit actor %v", e["actor"])
			}
			if e["kind"] == "remove" && e["note"] != "noise" {
				t.Errorf("remove edit %v", e)
			}
		}
		if strings.Join(kinds, ",") != "rename,tag,remove,restore" {
			t.Fatalf("edits %v", kinds)
		}
	})
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}
