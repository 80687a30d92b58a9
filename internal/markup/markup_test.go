package markup

import (
	"regexp"
	"strings"
	"testing"

	"github.com/kiosko/kiosko"
)

// hostile are inputs that try to get script into a reader's page. Each
// must come out with no script element, no on* attribute, no
// javascript:, vbscript: or data: URL, and no style or iframe.
var hostile = []string{
	`<script>alert(1)</script>`,
	`<SCRIPT SRC=//evil.example/x.js></SCRIPT>`,
	`<img src=x onerror=alert(1)>`,
	`<img src="javascript:alert(1)">`,
	`<a href="javascript:alert(1)">click</a>`,
	`<a href="JaVaScRiPt:alert(1)">click</a>`,
	`<a href=" javascript:alert(1)">click</a>`,
	`<a href="jav&#x09;ascript:alert(1)">click</a>`,
	`<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">click</a>`,
	`<a href="vbscript:msgbox(1)">x</a>`,
	`<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`,
	`<svg onload=alert(1)><circle r=1 /></svg>`,
	`<iframe src="https://evil.example"></iframe>`,
	`<div style="background:url(javascript:alert(1))">x</div>`,
	`<p onclick="alert(1)" onmouseover="alert(2)">text</p>`,
	`<body onload=alert(1)>`,
	`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
	`<noscript><p title="</noscript><img src=x onerror=alert(1)>">`,
	`<form action="javascript:alert(1)"><input type=submit></form>`,
	`<object data="javascript:alert(1)"></object><embed src="x.swf">`,
	`<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`,
	`<base href="javascript:alert(1)//">`,
	`<link rel=stylesheet href="https://evil.example/x.css">`,
	"[click](javascript:alert(1))",
	"[click](JAVASCRIPT:alert(1) \"t\")",
	"[click](<javascript:alert(1)>)",
	"![x](javascript:alert(1))",
	"<javascript:alert(1)>",
	"[x]: javascript:alert(1)\n\n[link][x]",
	"Text <img src=x onerror=alert(1)> inline",
	"```\n</code><script>alert(1)</script>\n```",
	"<details open ontoggle=alert(1)>",
	"<a href=\"https://ok.example\" onfocus=\"alert(1)\" autofocus>ok</a>",
}

var (
	scriptTag = regexp.MustCompile(`(?i)<\s*(script|iframe|style|object|embed|form|meta|base|link|svg|math|body)\b`)
	handler   = regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
	badURL    = regexp.MustCompile(`(?i)(href|src|action|data)\s*=\s*["']?\s*(javascript|vbscript|data):`)
)

func safe(t *testing.T, in, out string) {
	t.Helper()
	if scriptTag.MatchString(out) || handler.MatchString(out) || badURL.MatchString(out) {
		t.Errorf("input %q came out unsafe: %q", in, out)
	}
}

func TestHostileInputNeverReachesAReader(t *testing.T) {
	for _, in := range hostile {
		safe(t, in, HTML(in))
		out, err := Markdown(in)
		if err != nil {
			t.Fatalf("Markdown(%q): %v", in, err)
		}
		safe(t, in, out)
	}
}

func TestOrdinaryProseSurvives(t *testing.T) {
	out, err := Markdown("## Barrios\n\nUn **tranvía** con *prisa* y [un enlace](https://example.com/a?b=1).\n\n- uno\n- dos\n\n> cita\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n![Vagones](/newsroom/images/abc/640)")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<h2", "<strong>tranvía</strong>", "<em>prisa</em>", `href="https://example.com/a?b=1"`, `rel="nofollow"`,
		"<li>uno</li>", "<blockquote>", "<table>", "<td>1</td>", `src="/newsroom/images/abc/640"`, `alt="Vagones"`} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered Markdown lacks %q:\n%s", want, out)
		}
	}
	pasted := HTML(`<figure><img src="https://cdn.example/a.jpg" alt="A"><figcaption>Pie</figcaption></figure><p>Hola <b>mundo</b></p>`)
	for _, want := range []string{"<figure>", "<figcaption>Pie</figcaption>", `alt="A"`, "<b>mundo</b>"} {
		if !strings.Contains(pasted, want) {
			t.Errorf("sanitized HTML lacks %q: %s", want, pasted)
		}
	}
}

// Paragraphs stored before bodies were Markdown become Markdown that
// renders them unchanged, however much punctuation they hold.
func TestParagraphsBodyRendersTheSameText(t *testing.T) {
	paras := []string{
		"Plain prose, with «comillas» and ñ.",
		"- not a list item",
		"+ nor this",
		"2026. Not a numbered list",
		"3) nor this",
		"# not a heading",
		"> not a quote",
		"    not code",
		"*not emphasis* and _neither_ and `no code` and [no](link) and <b>no tag</b> & no &amp; entity",
		"a | b ~~c~~ \\ backslash ! bang",
		"=== not a rule",
	}
	src, want := kiosko.ParagraphsBody(paras)
	got, err := Markdown(src)
	if err != nil {
		t.Fatal(err)
	}
	// Entities may be spelled differently, and HTML shows no leading
	// blanks in a paragraph anyway.
	norm := strings.NewReplacer("&#34;", `"`, "&quot;", `"`, "&#39;", "'", "<p>    ", "<p>")
	if g, w := norm.Replace(strings.TrimSpace(got)), norm.Replace(strings.TrimSpace(want)); g != w {
		t.Errorf("Markdown of the paragraphs renders\n%s\nwant\n%s", g, w)
	}
}
