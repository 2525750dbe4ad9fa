package csvfile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
)

// MaxRowBytes bounds one row (the header included), quoted line breaks and
// all.
const MaxRowBytes = 1 << 20

// Format returns the CSV format for files laid out as m says; rows without
// a source (no column, or an empty cell) take defaultSource.
func Format(m Mapping, defaultSource string) source.Format {
	return source.Format{
		Name:  "csv",
		Doc:   "CSV with a header row; columns mapped to canonical fields with --map field=header,…",
		Sniff: func(head []byte) bool { return sniff(head, m) },
		Decode: func(r io.Reader, fn func(source.Item) error) error {
			return decode(r, m, defaultSource, fn)
		},
	}
}

const bom = "\xef\xbb\xbf"

// sniff accepts a first line with a comma and a latitude column.
func sniff(head []byte, m Mapping) bool {
	line, _, _ := bytes.Cut(bytes.TrimPrefix(head, []byte(bom)), []byte("\n"))
	if !bytes.Contains(line, []byte(",")) {
		return false
	}
	for _, cell := range strings.Split(string(line), ",") {
		cell = strings.ToLower(strings.Trim(cell, " \t\r\""))
		if cell == "lat" || cell == "latitude" || (m["lat"] != "" && cell == strings.ToLower(m["lat"])) {
			return true
		}
	}
	return false
}

// errRowTooLarge is returned by rowLimiter to stop the CSV reader.
var errRowTooLarge = errors.New("row too large")

// rowLimiter fails reads once the row being read is longer than max, so
// that an unclosed quote cannot make the CSV reader buffer a whole file.
// rowStart is the input offset where the current row starts; slack allows
// for the CSV reader's own read-ahead.
type rowLimiter struct {
	r              io.Reader
	read, rowStart int64
}

const slack = 64 << 10

func (l *rowLimiter) Read(p []byte) (int, error) {
	if l.read-l.rowStart > MaxRowBytes+slack {
		return 0, errRowTooLarge
	}
	n, err := l.r.Read(p)
	l.read += int64(n)
	return n, err
}

func decode(r io.Reader, m Mapping, defaultSource string, fn func(source.Item) error) error {
	if e := m.check(); e != nil {
		return e
	}
	br := bufio.NewReader(r)
	if b, err := br.Peek(len(bom)); err == nil && string(b) == bom {
		br.Discard(len(bom))
	}
	lim := &rowLimiter{r: br}
	cr := csv.NewReader(lim)
	cr.FieldsPerRecord = -1 // ragged rows are reported per row, not by the reader
	cr.ReuseRecord = true
	header, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return nil // an empty file
	case errors.Is(err, errRowTooLarge):
		return tooLarge("the header row is larger than %d bytes", MaxRowBytes)
	case err != nil:
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return geopulse.Reject(geopulse.ReasonMalformedJSON, "malformed CSV header on line %d: %v", pe.Line, pe.Err)
		}
		return fmt.Errorf("read csv: %w", err)
	}
	cols, e := columns(header, m, defaultSource)
	if e != nil {
		return e
	}
	rd := rowDecoder{cols: cols, defaultSource: defaultSource, width: len(header)}
	for index := 0; ; index++ {
		lim.rowStart = cr.InputOffset()
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		it := source.Item{Index: index}
		var pe *csv.ParseError
		switch {
		case errors.Is(err, errRowTooLarge):
			line, _ := cr.FieldPos(0)
			return tooLarge("row %d (from line %d) is larger than %d bytes; is a quote left open?", index+1, line, MaxRowBytes)
		case errors.As(err, &pe):
			it.Err = geopulse.Reject(geopulse.ReasonMalformedJSON, "row %d (line %d): malformed CSV: %v", index+1, pe.StartLine, pe.Err)
		case err != nil:
			return fmt.Errorf("read csv: %w", err)
		default:
			line, _ := cr.FieldPos(0)
			where := fmt.Sprintf("row %d (line %d)", index+1, line)
			if p, e := rd.row(rec, where); e != nil {
				it.Err = e
			} else {
				it.Post = p
			}
		}
		if err := fn(it); err != nil {
			return err
		}
	}
}

func tooLarge(format string, args ...any) *geopulse.Error {
	return &geopulse.Error{Code: geopulse.ETOOLARGE, Reason: geopulse.ReasonTooLarge, Message: fmt.Sprintf(format, args...)}
}

// columns resolves every canonical field to a column index (-1: absent).
func columns(header []string, m Mapping, defaultSource string) (map[string]int, *geopulse.Error) {
	for i, h := range header {
		if !utf8.ValidString(h) {
			return nil, geopulse.Reject(geopulse.ReasonInvalidUTF8, "header column %d is not valid UTF-8", i+1)
		}
	}
	cols := make(map[string]int, len(fields()))
	for _, field := range fields() {
		want, explicit := m[field]
		if !explicit {
			want = field
		}
		cols[field] = -1
		for i, h := range header {
			if !strings.EqualFold(strings.TrimSpace(h), strings.TrimSpace(want)) {
				continue
			}
			if cols[field] >= 0 {
				return nil, geopulse.Reject(geopulse.ReasonInvalidField, "column %q appears twice in the header", want)
			}
			cols[field] = i
		}
		if cols[field] >= 0 {
			continue
		}
		switch {
		case explicit:
			return nil, geopulse.Reject(geopulse.ReasonMissingField, "the mapping reads %s from column %q, which is not in the header", field, want)
		case field == "source" && defaultSource == "":
			return nil, geopulse.Reject(geopulse.ReasonMissingField, "no column %q and no default source: map source=<header> or give a source", want)
		}
		for _, r := range required() {
			if r == field {
				return nil, geopulse.Reject(geopulse.ReasonMissingField, "no column %q for the required field %s; map %s=<header>", want, field, field)
			}
		}
	}
	return cols, nil
}
