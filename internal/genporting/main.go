// Command genporting writes docs/porting-from-php.md: every method, function
// and constant of PHP's gearman extension with its Go counterpart and the
// differences in behaviour, taken from the doc comments of package gearman
// (see internal/porting for the conventions).
//
// Usage, from the module root (see generate.go):
//
//	go run ./internal/genporting [-o docs/porting-from-php.md]
//
// It fails, writing nothing, when a PHP name has no Go counterpart or a doc
// comment breaks the conventions.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/libgearman-go/gearman/internal/porting"
)

func main() {
	out := flag.String("o", "docs/porting-from-php.md", "output file, - for standard output")
	pkg := flag.String("pkg", ".", "directory of package gearman")
	reflection := flag.String("reflection", "testdata/php-gearman-reflection.txt", "output of php --re gearman")
	manual := flag.String("manual", "testdata/php-manual-methods.txt", "the PHP manual's Class::method list")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: genporting [-o file] [-pkg dir] [-reflection file] [-manual file]")
		os.Exit(2)
	}
	src, err := porting.Generate(*pkg, *reflection, *manual)
	if err == nil {
		if *out == "-" {
			_, err = os.Stdout.Write(src)
		} else {
			err = os.WriteFile(*out, src, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genporting:", err)
		os.Exit(1)
	}
}
