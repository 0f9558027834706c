package gearman

import (
	"path/filepath"
	"testing"

	"github.com/libgearman-go/gearman/internal/porting"
)

// The doc comment conventions of docs/porting-from-php.md (its section "How
// this file is made"). These tests read source only: no gearmand, no cgo calls.

// The inputs of internal/genporting, relative to the module root.
var (
	reflectionFile = filepath.Join("testdata", "php-gearman-reflection.txt")
	manualFile     = filepath.Join("testdata", "php-manual-methods.txt")
	portingDoc     = filepath.Join("docs", "porting-from-php.md")
)

// TestDocEveryExportedIdentifier fails for a package without a doc comment
// or an exported type, func, method, constant or variable without one. A constant or variable in a
// group with a comment counts as documented, as in go doc.
func TestDocEveryExportedIdentifier(t *testing.T) {
	for _, dir := range []string{".", "gearmantest", "admin"} {
		api, err := porting.LoadPackage(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(api.Decls) == 0 {
			t.Errorf("package in %s: no exported identifiers found", dir)
		}
		if api.Doc == "" {
			t.Errorf("package in %s: no package doc comment", dir)
		}
		for _, u := range api.Undocumented() {
			t.Errorf("%s: no doc comment", filepath.Join(dir, u))
		}
	}
}

// TestDocPHPCounterparts fails when a func or method of package gearman does
// not carry exactly one "(PHP name)" or "(Go only)" marker, when a marker
// names something PHP does not have, or when a PHP class, method, function
// or constant has no Go counterpart.
func TestDocPHPCounterparts(t *testing.T) {
	ref, err := porting.LoadReference(reflectionFile, manualFile)
	if err != nil {
		t.Fatal(err)
	}
	api, err := porting.LoadPackage(".")
	if err != nil {
		t.Fatal(err)
	}
	_, problems := porting.Check(ref, api)
	for _, p := range problems {
		t.Error(p)
	}
	if len(problems) > 0 {
		t.Log(`conventions: see "How this file is made" in docs/porting-from-php.md`)
	}
}
