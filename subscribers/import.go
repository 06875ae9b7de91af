package subscribers

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"newsletter"
)

// ImportOptions says how to read an import file.
type ImportOptions struct {
	// Newsletter is the newsletter of rows without a newsletters column.
	Newsletter string
	// Confirmed marks the list as having consented elsewhere: rows without a
	// status become confirmed, and the consent record says so.
	Confirmed bool
	// Progress, when set, is called after each stored chunk with the
	// number of rows read so far.
	Progress func(rows int)
}

// ImportResult is what an import did.
type ImportResult struct {
	Imported int          `json:"imported"`
	Skipped  []SkippedRow `json:"skipped"`
}

// SkippedRow is a row that was not imported, and why.
type SkippedRow struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// importChunk is how many rows go to Redis in one pipeline.
const importChunk = 500

// Import reads a CSV file with a header row naming an email column and
// optionally name, newsletters (ids separated by ";") and status (pending,
// confirmed or unsubscribed), and stores its rows. A bad row is reported
// with its line and reason and skips nothing else. Imports send no email
// and never undo an unsubscription.
func (s *Service) Import(ctx context.Context, r io.Reader, opts ImportOptions) (*ImportResult, error) {
	known, err := s.newsletterSet(ctx)
	if err != nil {
		return nil, err
	}
	if opts.Newsletter != "" && !known[opts.Newsletter] {
		return nil, newsletter.FieldError(newsletter.EUNKNOWNNEWSLETTER, "newsletter", "There is no newsletter with this id.")
	}
	rd, err := newImportReader(r, opts, known)
	if err != nil {
		return nil, err
	}
	res := &ImportResult{Skipped: []SkippedRow{}}
	consent := importConsent(opts, s.Now())
	for {
		rows, done, err := rd.next(importChunk, res)
		if err != nil {
			return res, err
		}
		if err := s.Store.importRows(ctx, rows, consent); err != nil {
			return res, fmt.Errorf("subscribers: import: %w", err)
		}
		res.Imported += len(rows)
		if opts.Progress != nil {
			opts.Progress(rd.rows)
		}
		if done {
			return res, nil
		}
	}
}

func importConsent(opts ImportOptions, now time.Time) Consent {
	c := Consent{Action: ActionImport, At: now.UTC(), Source: "import"}
	if opts.Confirmed {
		c.Source = "import: consented elsewhere (confirmed=true)"
	}
	return c
}

func (s *Service) newsletterSet(ctx context.Context) (map[string]bool, error) {
	all, err := s.Store.Newsletters(ctx)
	if err != nil {
		return nil, fmt.Errorf("subscribers: import: %w", err)
	}
	set := make(map[string]bool, len(all))
	for _, n := range all {
		set[n.ID] = true
	}
	return set, nil
}

// importRow is one row ready to store.
type importRow struct {
	addr        string
	name        string
	status      newsletter.Status
	newsletters []string
}

// importReader turns CSV records into rows, skipping bad ones.
type importReader struct {
	csv   *csv.Reader
	cols  map[string]int
	opts  ImportOptions
	known map[string]bool
	rows  int
}

func newImportReader(r io.Reader, opts ImportOptions, known map[string]bool) (*importReader, error) {
	c := csv.NewReader(r)
	c.FieldsPerRecord = -1
	c.TrimLeadingSpace = true
	c.ReuseRecord = true
	header, err := c.Read()
	if err != nil {
		return nil, newsletter.FieldError(newsletter.EBADCSV, "csv", "The file must start with a header row naming an email column.")
	}
	cols := map[string]int{}
	for i, h := range header {
		cols[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	if _, ok := cols["email"]; !ok {
		return nil, newsletter.FieldError(newsletter.EBADCSV, "csv", "The header row has no email column.")
	}
	return &importReader{csv: c, cols: cols, opts: opts, known: known}, nil
}

// next reads up to n good rows, adding bad ones to res.Skipped; done is
// true at the end of the file.
func (ir *importReader) next(n int, res *ImportResult) (rows []importRow, done bool, err error) {
	for len(rows) < n {
		rec, err := ir.csv.Read()
		if errors.Is(err, io.EOF) {
			return rows, true, nil
		}
		ir.rows++
		line, _ := ir.csv.FieldPos(0)
		if err != nil {
			var perr *csv.ParseError
			if errors.As(err, &perr) {
				res.Skipped = append(res.Skipped, SkippedRow{Line: perr.Line, Reason: "malformed_row"})
				continue
			}
			return rows, false, err
		}
		row, reason := ir.row(rec)
		if reason != "" {
			res.Skipped = append(res.Skipped, SkippedRow{Line: line, Reason: reason})
			continue
		}
		rows = append(rows, row)
	}
	return rows, false, nil
}

// row checks one record and returns it as a row, or the reason to skip it.
func (ir *importReader) row(rec []string) (importRow, string) {
	addr, err := NormalizeAddress(ir.field(rec, "email"))
	if err != nil {
		return importRow{}, newsletter.EINVALIDEMAIL
	}
	status, ok := ir.status(ir.field(rec, "status"))
	if !ok {
		return importRow{}, "invalid_status"
	}
	nls := []string{ir.opts.Newsletter}
	if list := ir.field(rec, "newsletters"); list != "" {
		nls = dedupe(strings.Split(list, ";"))
	}
	for _, nl := range nls {
		if !ir.known[nl] {
			return importRow{}, newsletter.EUNKNOWNNEWSLETTER
		}
	}
	return importRow{addr: addr, name: cleanName(ir.field(rec, "name")), status: status, newsletters: nls}, ""
}

func (ir *importReader) field(rec []string, col string) string {
	i, ok := ir.cols[col]
	if !ok || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

func (ir *importReader) status(v string) (newsletter.Status, bool) {
	switch newsletter.Status(strings.ToLower(v)) {
	case "":
		if ir.opts.Confirmed {
			return newsletter.StatusConfirmed, true
		}
		return newsletter.StatusPending, true
	case newsletter.StatusPending:
		return newsletter.StatusPending, true
	case newsletter.StatusConfirmed:
		return newsletter.StatusConfirmed, ir.opts.Confirmed // confirmed needs consent given elsewhere
	case newsletter.StatusUnsubscribed:
		return newsletter.StatusUnsubscribed, true
	}
	return "", false
}
