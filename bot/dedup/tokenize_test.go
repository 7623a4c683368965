package dedup

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestStripMarkup(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"SlackUser", "hey <@U123> dark mode", "hey   dark mode"},
		{"SlackUserLabel", "<@U123|alice> dark mode", "  dark mode"},
		{"SlackChannel", "see <#C1|general>", "see  general "},
		{"SlackLinkLabel", "<https://x.y/a|the doc>", " https://x.y/a the doc "},
		{"SlackLink", "<https://x.y>", " https://x.y  "},
		{"SlackHere", "<!here> export", "  export"},
		{"SlackGroup", "<!subteam^S1|@design> look", " design  look"},
		{"DiscordUser", "<@123> <@!456> <@&789> hi", "      hi"},
		{"DiscordChannel", "in <#123>", "in   "},
		{"DiscordEmoji", "love it <:party:123> <a:spin:456>", "love it    "},
		{"Shortcode", "great :+1: :bulb:", "great    "},
		{"ClockKept", "at 10:30:00", "at 10:30:00"},
		{"CodeBlock", "```go\nfmt.Println()\n```", " fmt.Println()\n "},
		{"InlineCode", "call `getUser()` now", "call  getUser()  now"},
		{"PlainLessThan", "a < b and c > d", "a < b and c > d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StripMarkup(tt.in); got != tt.want {
				t.Errorf("StripMarkup(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFold(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"ASCII", "Dark MODE", "dark mode"},
		{"Accents", "Café Crème Ñandú", "cafe creme nandu"},
		{"NFKC", "ﬁle Ｆｕｌｌｗｉｄｔｈ ①", "file fullwidth 1"},
		{"German", "Straße", "strasse"},
		{"Greek", "ΣΊΣΥΦΟΣ", "σισυφοσ"},
		{"Emoji", "ship it 🚀", "ship it 🚀"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Fold(tt.in); got != tt.want {
				t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTokenize(t *testing.T) {
	w := func(s string) Token { return Token{s, KindWord} }
	id := func(s string) Token { return Token{s, KindIdent} }
	v := func(s string) Token { return Token{s, KindVersion} }
	n := func(s string) Token { return Token{s, KindNumber} }
	u := func(s string) Token { return Token{s, KindURL} }
	tests := []struct {
		name string
		in   string
		want []Token
	}{
		{"Words", "Dark mode, please!", []Token{w("dark"), w("mode"), w("please")}},
		{"Accents", "Crème brûlée", []Token{w("creme"), w("brulee")}},
		{"Emoji", "🚀ship 🎉it👍", []Token{w("ship"), w("it")}},
		{"CamelCase", "ensureElementIsVisible()", []Token{id("ensureelementisvisible"), w("ensure"), w("element"), w("is"), w("visible")}},
		{"Acronym", "HTTPServerError", []Token{id("httpservererror"), w("http"), w("server"), w("error")}},
		{"SnakeCase", "max_retry_count", []Token{id("max_retry_count"), w("max"), w("retry"), w("count")}},
		{"Dotted", "org.apache.FileSystem", []Token{id("org.apache.filesystem"), w("org"), w("apache"), id("filesystem"), w("file"), w("system")}},
		{"Version", "v2.4", []Token{v("2.4")}},
		{"VersionPatch", "upgrade to 1.2.3", []Token{w("upgrade"), w("to"), v("1.2.3"), v("1.2")}},
		{"VersionSuffix", "4.1.89.Final", []Token{v("4.1.89"), v("4.1"), w("final")}},
		{"VersionHyphen", "hadoop-3.4.0", []Token{id("hadoop-3.4.0"), w("hadoop"), v("3.4.0"), v("3.4")}},
		{"Numbers", "error 404 on page 2", []Token{w("error"), n("404"), w("on"), w("page")}},
		{"Hyphen", "e-mail", []Token{w("email"), w("e"), w("mail")}},
		{"CVE", "CVE-2022-41881", []Token{id("cve-2022-41881"), w("cve"), n("2022"), n("41881")}},
		{"Apostrophe", "doesn't work", []Token{w("doesnt"), w("work")}},
		{"URL", "see https://www.Example.com/docs/Page?x=1.", []Token{w("see"), u("example.com/docs/page"), id("example.com"), w("example"), w("com"), w("docs"), w("page")}},
		{"URLQueryValues", "https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2022-41881#x", []Token{u("cve.mitre.org/cgi-bin/cvename.cgi"), id("cve.mitre.org"), w("cve"), w("mitre"), w("org"), w("cgibin"), w("cgi"), w("bin"), id("cvename.cgi"), w("cvename"), w("cgi"), id("cve-2022-41881"), w("cve"), n("2022"), n("41881")}},
		{"RuntimeFramesDropped", "NPE at org.apache.hadoop.fs.Foo.bar(Foo.java:12) at sun.reflect.NativeMethodAccessorImpl.invoke0(Native Method) at org.junit.runners.ParentRunner.run(ParentRunner.java:363) look at (this)",
			[]Token{w("npe"), w("at"), id("org.apache.hadoop.fs.foo.bar"), w("org"), w("apache"), w("hadoop"), w("fs"), w("foo"), w("bar"), id("foo.java"), w("foo"), w("java"), n("12"), w("look"), w("at"), w("this")}},
		{"LogLevelsDropped", "[INFO] BUILD FAILURE [ERROR] Failed [x]", []Token{w("build"), w("failure"), w("failed"), w("x")}},
		{"SlackLink", "<https://x.io/a|Export guide>", []Token{u("x.io/a"), id("x.io"), w("x"), w("io"), w("a"), w("export"), w("guide")}},
		{"SlackMentions", "<@U123> wants <#C1|general>", []Token{w("wants"), w("general")}},
		{"DiscordMarkup", "<@123> <:emoji:123> export", []Token{w("export")}},
		{"CodeBlock", "```js\nconst userId = getUser();\n```", []Token{w("const"), id("userid"), w("user"), w("id"), id("getuser"), w("get"), w("user")}},
		{"SentenceEnd", "Crashes. Then exits", []Token{w("crashes"), w("then"), w("exits")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Tokenize(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Tokenize(%q)\n got  %v\n want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestAnalyze(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"StopWordsAndStems", "Hi, I would like the exports to be faster please", []string{"export", "faster"}},
		{"Stemming", "crashing crashed crashes", []string{"crash", "crash", "crash"}},
		{"IdentifierKeepsWhole", "getUserName fails", []string{"getusernam", "user", "name", "fail"}},
		// A camelCase word is the word (stemmed) and its parts; a snake_case or
		// dotted identifier stays as written.
		{"CamelCaseIsTheWord", "ZooKeeper / Zookeeper", []string{"zookeep", "zoo", "keeper", "zookeep"}},
		{"SnakeCaseStaysWhole", "max_retries", []string{"max_retries", "max", "retri"}},
		{"OneLetterDropped", "a b c plan", []string{"plan"}},
		// A browser's user-agent string loses its engine tokens (the same
		// in unrelated reports) and keeps its platform and product.
		{"UserAgentFirefox", "Mozilla/5.0 (Windows NT 10.0; WOW64; rv:91.0) Gecko/20100101 SeaMonkey/2.53.17.1", []string{"window", "nt", "10.0", "wow64", "rv", "91.0", "seamonkey", "sea", "monkey", "2.53.17.1", "2.53"}},
		{"UserAgentChrome", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", []string{"x11", "linux", "x86_64", "x86", "64"}},
		{"UserAgentSafari", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Version/17.5 Safari/605.1.15", []string{"macintosh", "intel", "mac", "os", "10_15_7", "10", "15"}},
		{"BrowserVersionWithoutUserAgentStays", "Chrome/120 breaks the login", []string{"chrome", "120", "break", "login"}},
		{"BrowserNamesWithoutVersionsStay", "works in Firefox and Chrome, not Gecko/Safari", []string{"work", "firefox", "chrome", "gecko", "safari"}},
		{"Empty", "  🚀 ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Analyze(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Analyze(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// plainScanWords is scanWords as it was first written: every word through
// emitWord.
func plainScanWords(s string, fn func(Token, bool)) {
	start := -1
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case isWordRune(r):
			if start < 0 {
				start = i
			}
		case start >= 0 && isJoiner(r):
			if n, _ := utf8.DecodeRuneInString(s[i+size:]); !isWordRune(n) {
				emitWord(s[start:i], fn)
				start = -1
			}
		default:
			if start >= 0 {
				emitWord(s[start:i], fn)
				start = -1
			}
		}
		i += size
	}
	if start >= 0 {
		emitWord(s[start:], fn)
	}
}

// TestScanWordsMatchesEmitWord checks scanWords (which emits words of
// lower-case letters and digits itself) against emitWord for every word,
// on random texts of words, numbers, identifiers, versions, joined and
// hyphenated words, apostrophes and non-ASCII letters.
func TestScanWordsMatchesEmitWord(t *testing.T) {
	type tok struct {
		Token
		seq bool
	}
	collect := func(scan func(string, func(Token, bool)), s string) []tok {
		var out []tok
		scan(s, func(t Token, seq bool) { out = append(out, tok{t, seq}) })
		return out
	}
	pieces := []string{"a", "export", "z9", "42", "7", "0", "v2", "1.2.3", "2.4-rc1", "Foo", "fooBar", "snake_case", "_x",
		"e-mail", "built-in", "don't", "user\u2019s", "org.apache.Fs", "x.y", "café", "ß", "日本", "\xff", "-", ".", "'", " ", " ", "\n", ",", "(", "__", "A1", "a-1", "1-a"}
	rng := rand.New(rand.NewPCG(11, 12))
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for n := rng.IntN(12); n >= 0; n-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		if got, want := collect(scanWords, s), collect(plainScanWords, s); !slices.Equal(got, want) {
			t.Fatalf("scanWords(%q) = %v, want %v", s, got, want)
		}
	}
}
