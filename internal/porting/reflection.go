// Package porting maps PHP's gearman extension onto package gearman: it reads
// the extension's reflection (`php --re gearman`) and the method list of the
// PHP manual, reads the Go package's doc comments, pairs every PHP name with
// its Go counterpart and renders docs/porting-from-php.md.
//
// The pairing comes from markers in the Go doc comments, not from the naming
// rule, so that the exceptions (NewClient, Close, LastError, ...) need no
// table here and a renamed or missing method is caught. The conventions are
// described in docs/porting-from-php.md itself (see conventionsText) and
// checked by Check.
package porting

import (
	"bufio"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Reference is what PHP offers: the extension's reflection plus the names
// the PHP manual documents.
type Reference struct {
	Version   string // extension version, e.g. "2.1.0"
	Constants []PHPConstant
	Functions []*PHPFunction
	Classes   []*PHPClass
	// Manual lists "Class::method" as the manual spells them, in file order.
	Manual []string
}

// PHPConstant is one constant of the reflection.
type PHPConstant struct {
	Type, Name, Value string
}

// PHPFunction is a function or a method of the reflection.
type PHPFunction struct {
	Name      string
	Params    []string // e.g. "?string $unique = null"
	Return    string   // "" if the reflection declares none
	Inherited bool     // a method inherited from a built-in class (Exception)
}

// PHPClass is one class of the reflection.
type PHPClass struct {
	Name    string
	Methods []*PHPFunction
}

// Signature renders f the way the PHP manual writes it, without modifiers:
// name(type $a, ?type $b = default): return.
func (f *PHPFunction) Signature() string {
	s := f.Name + "(" + strings.Join(f.Params, ", ") + ")"
	if f.Return != "" {
		s += ": " + f.Return
	}
	return s
}

// Class returns the class called name, nil if there is none.
func (r *Reference) Class(name string) *PHPClass {
	for _, c := range r.Classes {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Method returns the method called name, compared as PHP compares method
// names: without case (the 2.1.0 extension registers "dolow").
func (c *PHPClass) Method(name string) *PHPFunction {
	for _, m := range c.Methods {
		if strings.EqualFold(m.Name, name) {
			return m
		}
	}
	return nil
}

var (
	extensionRe = regexp.MustCompile(`^Extension \[ .* version (\S+) \]`)
	countRe     = regexp.MustCompile(`^- (Constants|Methods) \[(\d+)\] \{$`)
	constantRe  = regexp.MustCompile(`^Constant \[ (\S+) (\w+) \] \{ (.*) \}$`)
	functionRe  = regexp.MustCompile(`^Function \[ <[^>]*> function (\w+) \] \{$`)
	classRe     = regexp.MustCompile(`^Class \[ <[^>]*> (?:final )?class (\w+)[ \]]`)
	methodRe    = regexp.MustCompile(`^Method \[ <([^>]*)> (?:[a-z]+ )*method (\w+) \] \{$`)
	parameterRe = regexp.MustCompile(`^Parameter #\d+ \[ <(required|optional)> (.*) \]$`)
	returnRe    = regexp.MustCompile(`^- (?:Tentative r|R)eturn \[ (.*) \]$`)
)

// ParseReflection reads the output of `php --re gearman`. Every count the
// reflection announces (constants, methods per class) is checked, so that a
// line this parser does not understand makes it fail instead of dropping a
// name.
func ParseReflection(text string) (*Reference, error) {
	ref := &Reference{}
	var (
		cur      *PHPFunction // function or method whose lines follow
		class    *PHPClass
		expected []expectation
	)
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if m := extensionRe.FindStringSubmatch(line); m != nil {
			ref.Version = m[1]
			continue
		}
		if m := countRe.FindStringSubmatch(line); m != nil {
			want, _ := strconv.Atoi(m[2])
			switch {
			case m[1] == "Constants" && class == nil:
				expected = append(expected, expectation{"constants", want, func() int { return len(ref.Constants) }})
			case m[1] == "Methods" && class != nil:
				c := class
				expected = append(expected, expectation{c.Name + " methods", want, func() int { return len(c.Methods) }})
			}
			continue
		}
		switch m := matchAny(line, constantRe, functionRe, classRe, methodRe, parameterRe, returnRe); {
		case m.re == constantRe:
			if class != nil {
				return nil, fmt.Errorf("reflection:%d: class constants are not supported", n)
			}
			ref.Constants = append(ref.Constants, PHPConstant{Type: m.sub[1], Name: m.sub[2], Value: m.sub[3]})
		case m.re == functionRe:
			cur = &PHPFunction{Name: m.sub[1]}
			ref.Functions = append(ref.Functions, cur)
		case m.re == classRe:
			class = &PHPClass{Name: m.sub[1]}
			ref.Classes = append(ref.Classes, class)
			cur = nil
		case m.re == methodRe:
			if class == nil {
				return nil, fmt.Errorf("reflection:%d: method outside a class", n)
			}
			cur = &PHPFunction{Name: m.sub[2], Inherited: strings.Contains(m.sub[1], "inherits ")}
			class.Methods = append(class.Methods, cur)
		case m.re == parameterRe:
			if cur == nil {
				return nil, fmt.Errorf("reflection:%d: parameter outside a function", n)
			}
			cur.Params = append(cur.Params, m.sub[2])
		case m.re == returnRe:
			if cur == nil {
				return nil, fmt.Errorf("reflection:%d: return type outside a function", n)
			}
			cur.Return = m.sub[1]
		case strings.HasPrefix(line, "Constant [") || strings.HasPrefix(line, "Function [") ||
			strings.HasPrefix(line, "Class [") || strings.HasPrefix(line, "Method [") ||
			strings.HasPrefix(line, "Parameter #"):
			return nil, fmt.Errorf("reflection:%d: cannot parse %q", n, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, e := range expected {
		if got := e.count(); got != e.n {
			return nil, fmt.Errorf("reflection announces %d %s, parsed %d", e.n, e.what, got)
		}
	}
	if len(ref.Constants) == 0 || len(ref.Classes) == 0 {
		return nil, fmt.Errorf("reflection: no constants or no classes found")
	}
	return ref, nil
}

// expectation is a count the reflection announces, checked at the end.
type expectation struct {
	what  string
	n     int
	count func() int
}

type match struct {
	re  *regexp.Regexp
	sub []string
}

func matchAny(line string, res ...*regexp.Regexp) match {
	for _, re := range res {
		if m := re.FindStringSubmatch(line); m != nil {
			return match{re, m}
		}
	}
	return match{}
}

// AddManual reads the PHP manual's method list, one "Class::method" a line.
func (r *Reference) AddManual(text string) error {
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		class, method, ok := strings.Cut(line, "::")
		if !ok || r.Class(class) == nil || method == "" {
			return fmt.Errorf("manual:%d: want Class::method of a known class, got %q", n+1, line)
		}
		r.Manual = append(r.Manual, line)
	}
	return nil
}

// ManualOnly returns the manual's names the extension does not have, as
// "Class::method": deprecated names and ones removed from the extension.
func (r *Reference) ManualOnly() []string {
	var out []string
	for _, name := range r.Manual {
		class, method, _ := strings.Cut(name, "::")
		if r.Class(class).Method(method) == nil {
			out = append(out, name)
		}
	}
	return out
}
