package source

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// BOM is the UTF-8 byte order mark some exporters prepend.
const BOM = "\xef\xbb\xbf"

// LineReader reads the lines of NDJSON payloads for connectors: lines of at most max bytes, counting bytes and lines so
// that messages can say where a problem is.
type LineReader struct {
	BR  *bufio.Reader
	max int
	// long assembles lines longer than the bufio buffer; reused.
	long []byte
	// Off is the number of bytes consumed; newlines the line breaks.
	Off, newlines int
	// LineNo is the 1-based number of the line next returned.
	LineNo int
}

// readBufSize is the bufio buffer; longer lines are assembled in long.
const readBufSize = 64 << 10

// NewLineReader returns a LineReader of r for lines of at most max bytes.
func NewLineReader(r io.Reader, max int) *LineReader {
	return &LineReader{BR: bufio.NewReaderSize(r, readBufSize), max: max}
}

// SkipSpace consumes a leading byte order mark and white space; io.EOF
// when nothing else is left.
func (lr *LineReader) SkipSpace() error {
	if lr.Off == 0 {
		if b, err := lr.BR.Peek(len(BOM)); err == nil && string(b) == BOM {
			lr.BR.Discard(len(BOM))
			lr.Off = len(BOM)
		}
	}
	for {
		b, err := lr.BR.Peek(1)
		if err != nil {
			return err
		}
		switch b[0] {
		case '\n':
			lr.newlines++
		case ' ', '\t', '\r':
		default:
			return nil
		}
		lr.BR.Discard(1)
		lr.Off++
	}
}

// Next returns the next line, terminator included, and sets lineNo. A line
// longer than max is consumed without being kept: tooLong is true, line
// nil. The line is valid until the next call of any method.
func (lr *LineReader) Next() (line []byte, tooLong bool, err error) {
	lr.LineNo = lr.newlines + 1
	frag, err := lr.BR.ReadSlice('\n')
	line, n := frag, len(frag)
	if errors.Is(err, bufio.ErrBufferFull) {
		buf := append(lr.long[:0], frag...)
		for errors.Is(err, bufio.ErrBufferFull) {
			frag, err = lr.BR.ReadSlice('\n')
			n += len(frag)
			if n <= lr.max {
				buf = append(buf, frag...)
			}
		}
		lr.long, line = buf[:0], buf
	}
	lr.Off += n
	if len(frag) > 0 && frag[len(frag)-1] == '\n' {
		lr.newlines++
	}
	if n > lr.max {
		return nil, true, err
	}
	return line, false, err
}

// IsBlank reports whether b holds only white space.
func IsBlank(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }
