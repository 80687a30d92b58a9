package newsletter_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/newsletter"
)

// TestPreparedIssueCopies checks what differs between two copies of one
// prepared issue: each has its own greeting, address and link, escaped in
// the HTML part and plain in the text part, and no marker is left over.
func TestPreparedIssueCopies(t *testing.T) {
	r, err := newsletter.NewRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	ed := &kiosko.Edition{Code: "es", Name: "El Kiosko", Lang: "es", Timezone: "Europe/Madrid"}
	p, err := r.PrepareIssue(&kiosko.IssueContent{Edition: ed, Issue: &kiosko.Issue{Until: now},
		Articles:   []kiosko.IssueArticle{{ID: "a", Title: "Titular & <compañía>", URL: publicURL + "/es/a", PublishedAt: now.Add(-time.Hour)}},
		EditionURL: publicURL + "/es"})
	if err != nil {
		t.Fatal(err)
	}
	ana := p.Copy("ana@example.com", `Ana <"Bo"> & Cía`, publicURL+"/newsletter/unsubscribe?token=AAA")
	nobody := p.Copy("x@example.com", "", publicURL+"/newsletter/unsubscribe?token=BBB")
	text, html := kiosko.JoinPieces(ana.Text), kiosko.JoinPieces(ana.HTML)
	for _, w := range []string{`Hola, Ana <"Bo"> & Cía:`, "ana@example.com", "token=AAA", "Titular & <compañía>"} {
		if !strings.Contains(text, w) {
			t.Errorf("text lacks %q:\n%s", w, text)
		}
	}
	for _, w := range []string{"Hola, Ana &lt;&#34;Bo&#34;&gt; &amp; Cía:", "ana@example.com", `href="` + publicURL + `/newsletter/unsubscribe?token=AAA"`, "Titular &amp; &lt;compañía&gt;"} {
		if !strings.Contains(html, w) {
			t.Errorf("html lacks %q", w)
		}
	}
	if strings.Contains(html, `<"Bo">`) {
		t.Error("the name reached the HTML unescaped")
	}
	other := kiosko.JoinPieces(nobody.Text) + kiosko.JoinPieces(nobody.HTML)
	if !strings.Contains(other, "Hola:") || strings.Contains(other, "Ana") || strings.Contains(other, "AAA") || !strings.Contains(other, "token=BBB") {
		t.Errorf("the second copy is not its own:\n%s", other)
	}
	for _, m := range []*kiosko.BulkMessage{ana, nobody} {
		if s := kiosko.JoinPieces(m.Text) + kiosko.JoinPieces(m.HTML); strings.Contains(s, "kslot") {
			t.Errorf("a marker is left in %s", m.To)
		}
		if m.To == "" || m.Subject == "" {
			t.Errorf("copy without recipient or subject: %+v", m)
		}
		shared := 0
		for _, p := range m.HTML {
			if p.Shared {
				shared += len(p.Text)
			}
		}
		if total := len(kiosko.JoinPieces(m.HTML)); shared < total*3/4 {
			t.Errorf("only %d of %d HTML bytes are shared", shared, total)
		}
	}
}
