package newsroom

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

func TestParseWXR(t *testing.T) {
	f, err := os.Open("testdata/wordpress.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	posts, err := ParseWXR(f, "es", kiosko.AccessFree)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range posts {
		ids = append(ids, p.In.ID)
	}
	if !slices.Equal(ids, []string{"cafe-del-puerto", "obras-carretera-costa", "fiestas-2036", "wp-15"}) {
		t.Fatalf("posts %v: pages, attachments and trashed posts are left out", ids)
	}
	cafe := posts[0].In
	if cafe.Title != "El café del puerto reabre" || cafe.Standfirst != "Tras la reforma & con los mismos dueños." || !slices.Equal(cafe.Authors, []string{"Rosa Díaz"}) ||
		cafe.Section != "Ciudad" || cafe.Status != kiosko.StatusPublished || !cafe.PublishedAt.Equal(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)) || cafe.Edition != "es" {
		t.Errorf("first post %+v", cafe)
	}
	if body := *cafe.BodyHTML; !strings.HasPrefix(body, "<p>El café del puerto vuelve") || !strings.Contains(body, "<blockquote>") || strings.Count(body, "<p>") != 3 {
		t.Errorf("the body's paragraphs: %s", body)
	}
	if posts[1].In.Section != "" || posts[1].In.Authors[0] != "Iván Ruiz" {
		t.Errorf("second post %+v", posts[1].In)
	}
	if posts[2].In.Status != kiosko.StatusPublished || posts[2].In.PublishedAt.Year() != 2036 {
		t.Errorf("a future post: %+v (Save schedules a published post with a date ahead)", posts[2].In)
	}
	if d := posts[3].In; d.Status != kiosko.StatusDraft || d.PublishedAt != nil {
		t.Errorf("a draft: %+v", d)
	}
	if _, err := ParseWXR(strings.NewReader("<html><body>not an export"), "es", "free"); err == nil {
		t.Error("a page that is not an export was read")
	}
}
