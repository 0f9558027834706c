package gearman

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/libgearman-go/gearman/internal/porting"
)

// TestPortingDocUpToDate regenerates docs/porting-from-php.md in memory, as
// go run ./internal/genporting does, and fails if the committed file differs.
func TestPortingDocUpToDate(t *testing.T) {
	want, err := porting.Generate(".", reflectionFile, manualFile)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(portingDoc)
	if err != nil {
		t.Fatalf("%v\nrun go generate ./... (or go run ./internal/genporting) to create it", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	n := 0
	for n < len(gotLines) && n < len(wantLines) && gotLines[n] == wantLines[n] {
		n++
	}
	line := func(lines []string) string {
		if n < len(lines) {
			return lines[n]
		}
		return "(end of file)"
	}
	t.Fatalf("%s is out of date: run go generate ./... (or go run ./internal/genporting)\n"+
		"first difference at line %d:\n  file: %s\n  code: %s",
		portingDoc, n+1, line(gotLines), line(wantLines))
}

// TestPortingDocDeterministic guards the drift check itself: two runs must
// give the same bytes, or the file would never be up to date.
func TestPortingDocDeterministic(t *testing.T) {
	a, err := porting.Generate(".", reflectionFile, manualFile)
	if err != nil {
		t.Fatal(err)
	}
	b, err := porting.Generate(".", reflectionFile, manualFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two runs of the generator differ")
	}
}
