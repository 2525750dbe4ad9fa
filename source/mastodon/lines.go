package mastodon

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// bom is the UTF-8 byte order mark some exporters prepend.
const bom = "\xef\xbb\xbf"

// lineReader reads lines of at most max bytes, counting bytes and lines so
// that messages can say where a problem is.
type lineReader struct {
	br  *bufio.Reader
	max int
	// long assembles lines longer than the bufio buffer; reused.
	long []byte
	// off is the number of bytes consumed; newlines the line breaks.
	off, newlines int
	// lineNo is the 1-based number of the line next returned.
	lineNo int
}

// readBufSize is the bufio buffer; longer lines are assembled in long.
const readBufSize = 64 << 10

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, readBufSize), max: max}
}

// skipSpace consumes a leading byte order mark and white space; io.EOF
// when nothing else is left.
func (lr *lineReader) skipSpace() error {
	if lr.off == 0 {
		if b, err := lr.br.Peek(len(bom)); err == nil && string(b) == bom {
			lr.br.Discard(len(bom))
			lr.off = len(bom)
		}
	}
	for {
		b, err := lr.br.Peek(1)
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
		lr.br.Discard(1)
		lr.off++
	}
}

// next returns the next line, terminator included, and sets lineNo. A line
// longer than max is consumed without being kept: tooLong is true, line
// nil. The line is valid until the next call of any method.
func (lr *lineReader) next() (line []byte, tooLong bool, err error) {
	lr.lineNo = lr.newlines + 1
	frag, err := lr.br.ReadSlice('\n')
	line, n := frag, len(frag)
	if errors.Is(err, bufio.ErrBufferFull) {
		buf := append(lr.long[:0], frag...)
		for errors.Is(err, bufio.ErrBufferFull) {
			frag, err = lr.br.ReadSlice('\n')
			n += len(frag)
			if n <= lr.max {
				buf = append(buf, frag...)
			}
		}
		lr.long, line = buf[:0], buf
	}
	lr.off += n
	if len(frag) > 0 && frag[len(frag)-1] == '\n' {
		lr.newlines++
	}
	if n > lr.max {
		return nil, true, err
	}
	return line, false, err
}

func isBlank(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }
