package kiosko

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// ImportRow is one usable line of a subscriber list.
type ImportRow struct {
	Line  int
	Email string // normalised
	Name  string
	// Unsubscribed: the file says the address gave no consent (a
	// subscribed_to_emails=false column, as Ghost writes): it is recorded
	// as unsubscribed and never sent the newsletter.
	Unsubscribed bool
}

// ImportRefusal is a line of a subscriber list that was not imported.
type ImportRefusal struct {
	Line   int
	Email  string
	Reason string
}

// ImportReport tells what an import did.
type ImportReport struct {
	Rows      int // data lines read
	Added     int // new confirmed subscribers
	Confirmed int // pending subscribers now confirmed
	Unchanged int // already confirmed
	// Unsubscribed counts the rows without consent now recorded as
	// unsubscribed (see ImportRow.Unsubscribed).
	Unsubscribed int
	Refused      []ImportRefusal
}

// MaxImportRows bounds one import, so a wrong file cannot exhaust memory.
const MaxImportRows = 1_000_000

// ParseSubscriberCSV reads a subscriber list: a header row naming the
// columns (email is required, name optional, others are ignored), then
// one subscriber per line, comma- or semicolon-separated (spreadsheets in
// Spanish locales write semicolons). Bad lines are refused with their line
// number and reason; an error means the file as a whole is unusable (not
// UTF-8, broken quoting, no email column, no data) and nothing should be
// imported.
func ParseSubscriberCSV(r io.Reader) ([]ImportRow, []ImportRefusal, error) {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	first, err := br.Peek(4096)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, nil, fmt.Errorf("read: %w", err)
	}
	headerLine, _, _ := bytes.Cut(first, []byte("\n"))
	cr := csv.NewReader(br)
	if bytes.Count(headerLine, []byte(";")) > bytes.Count(headerLine, []byte(",")) {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, errors.New("the file is empty; it needs a header row \"email,name\" and one subscriber per line")
	} else if err != nil {
		return nil, nil, csvErr(err)
	}
	emailCol, nameCol, consentCol := -1, -1, -1
	for i, h := range header {
		if !utf8.ValidString(h) {
			return nil, nil, errors.New("line 1: the file is not UTF-8 text")
		}
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "email", "e-mail", "correo", "email address":
			if emailCol < 0 {
				emailCol = i
			}
		case "name", "nombre":
			if nameCol < 0 {
				nameCol = i
			}
		case "subscribed_to_emails", "subscribed":
			if consentCol < 0 {
				consentCol = i
			}
		}
	}
	if emailCol < 0 {
		return nil, nil, fmt.Errorf("line 1: the header row %q has no email column; the first line must name the columns, e.g. \"email,name\"", strings.Join(header, string(cr.Comma)))
	}

	var rows []ImportRow
	var refused []ImportRefusal
	seen := map[string]int{}
	lines := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, nil, csvErr(err)
		}
		line, _ := cr.FieldPos(0)
		lines++
		if lines > MaxImportRows {
			return nil, nil, fmt.Errorf("the file has more than %d rows; split it", MaxImportRows)
		}
		for _, f := range rec {
			if !utf8.ValidString(f) {
				return nil, nil, fmt.Errorf("line %d: the file is not UTF-8 text (save it as CSV UTF-8)", line)
			}
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			lines--
			continue // a blank line
		}
		raw := ""
		if emailCol < len(rec) {
			raw = strings.TrimSpace(rec[emailCol])
		}
		name := ""
		if nameCol >= 0 && nameCol < len(rec) {
			name = strings.TrimSpace(rec[nameCol])
		}
		consent, consentOK := true, true
		if consentCol >= 0 && consentCol < len(rec) {
			consent, consentOK = parseBool(strings.TrimSpace(rec[consentCol]), true)
		}
		email, err := NormalizeEmail(raw)
		switch {
		case raw == "":
			refused = append(refused, ImportRefusal{Line: line, Reason: "no email address"})
		case err != nil:
			refused = append(refused, ImportRefusal{Line: line, Email: raw, Reason: "not a valid email address"})
		case !consentOK:
			refused = append(refused, ImportRefusal{Line: line, Email: email, Reason: fmt.Sprintf("subscribed_to_emails %q is not true or false", strings.TrimSpace(rec[consentCol]))})
		case utf8.RuneCountInString(name) > 200:
			refused = append(refused, ImportRefusal{Line: line, Email: email, Reason: "name longer than 200 characters"})
		case seen[email] != 0:
			refused = append(refused, ImportRefusal{Line: line, Email: email, Reason: fmt.Sprintf("repeats line %d", seen[email])})
		default:
			seen[email] = line
			rows = append(rows, ImportRow{Line: line, Email: email, Name: name, Unsubscribed: !consent})
		}
	}
	if lines == 0 {
		return nil, nil, errors.New("the file has a header row but no subscribers")
	}
	return rows, refused, nil
}

func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d: malformed CSV: %v", pe.Line, pe.Err)
	}
	return fmt.Errorf("read: %w", err)
}

// Import adds a publisher's list to an edition's newsletter. The publisher
// vouches for consent, so imported addresses are confirmed at once, but an
// address that unsubscribed or bounced is never brought back. The whole
// file is checked before anything is written, and everything is written in
// one transaction: an unusable file, or a failure half-way, leaves no trace.
// progress, if set, is called as rows are written.
func (n *Newsletter) Import(ctx context.Context, edition string, r io.Reader, progress func(done, total int)) (*ImportReport, error) {
	ed, err := n.edition(ctx, edition)
	if err != nil {
		return nil, err
	}
	rows, refused, err := ParseSubscriberCSV(r)
	if err != nil {
		return nil, &Error{Code: EINVALID, Key: "error.newsletter_import_unusable", Message: err.Error()}
	}
	rep := &ImportReport{Rows: len(rows) + len(refused), Refused: refused}
	if len(rows) == 0 {
		return rep, &Error{Code: EINVALID, Key: "error.newsletter_import_unusable", Message: "no line of the file can be imported"}
	}
	now := n.now()
	var withoutConsent []*MemberImport
	kept := rows[:0]
	for _, row := range rows {
		if row.Unsubscribed {
			withoutConsent = append(withoutConsent, &MemberImport{Line: row.Line, NoAccount: true, Newsletters: []Subscriber{{Edition: ed.Code, Email: row.Email, Name: row.Name,
				Status: SubscriberUnsubscribed, Source: "import", UnsubscribeToken: NewToken(), CreatedAt: now, UnsubscribedAt: &now}}})
		} else {
			kept = append(kept, row)
		}
	}
	rows = kept
	if len(withoutConsent) > 0 {
		if _, err := n.Store.ImportMembers(ctx, withoutConsent, now); err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		rep.Unsubscribed = len(withoutConsent)
	}
	subs := make([]*Subscriber, len(rows))
	for i, row := range rows {
		confirmed := now
		subs[i] = &Subscriber{Edition: ed.Code, Email: row.Email, Name: row.Name, Status: SubscriberConfirmed, Source: "import",
			UnsubscribeToken: NewToken(), CreatedAt: now, ConfirmedAt: &confirmed}
	}
	var cb func(int)
	if progress != nil {
		cb = func(done int) { progress(done, len(subs)) }
	}
	outcomes, err := n.Store.ImportSubscribers(ctx, subs, now, cb)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	for i, o := range outcomes {
		switch o {
		case ImportAdded:
			rep.Added++
		case ImportConfirmed:
			rep.Confirmed++
		case ImportUnchanged:
			rep.Unchanged++
		case ImportUnsubscribed:
			rep.Refused = append(rep.Refused, ImportRefusal{Line: rows[i].Line, Email: rows[i].Email, Reason: "unsubscribed earlier; only they can sign up again"})
		case ImportBounced:
			rep.Refused = append(rep.Refused, ImportRefusal{Line: rows[i].Line, Email: rows[i].Email, Reason: "bounced earlier; the mail server refused this address"})
		}
	}
	sortRefusals(rep.Refused)
	return rep, nil
}

func sortRefusals(r []ImportRefusal) {
	slices.SortStableFunc(r, func(a, b ImportRefusal) int { return a.Line - b.Line })
}
