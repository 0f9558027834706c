package main

import (
	"bytes"
	"fmt"
	"os"
	"sync"
)

// stdoutMu makes the demo's own lines and its children's reach stdout one
// whole line at a time, so that lines never mix.
var stdoutMu sync.Mutex

// writeOut writes b to stdout as one piece.
func writeOut(b []byte) {
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	_, _ = os.Stdout.Write(b)
}

// say prints one line of the demo's own.
func say(format string, a ...any) {
	writeOut([]byte(fmt.Sprintf(format, a...) + "\n"))
}

// step prints a step's header, as scripts/common.sh's step does.
func step(title string) {
	say("\n==> %s", title)
}

// prefixWriter prints each line written to it behind a prefix such as
// "[worker] ". exec calls Write from one goroutine at a time.
type prefixWriter struct {
	prefix []byte
	buf    []byte // the start of a line whose end has not come yet
}

func newPrefixWriter(prefix string) *prefixWriter {
	return &prefixWriter{prefix: []byte(prefix)}
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.line(w.buf[:i+1])
		w.buf = w.buf[i+1:]
	}
}

// flush prints a last line that had no line ending.
func (w *prefixWriter) flush() {
	if len(w.buf) > 0 {
		w.line(append(w.buf, '\n'))
		w.buf = nil
	}
}

func (w *prefixWriter) line(l []byte) {
	writeOut(append(append([]byte{}, w.prefix...), l...))
}
