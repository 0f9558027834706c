package porting

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Mapping pairs the Reference with the API.
type Mapping struct {
	Ref *Reference
	API *API

	// ClassType maps a PHP class to the Go type that stands for it.
	ClassType map[string]*Decl
	// Member maps "Class::method" (the method lower-cased) to its Go
	// counterpart: a method, a func ("new GearmanClient"), or the class's
	// type when the type's doc comment names the member.
	Member map[string]*Decl
	// Function maps a PHP function to its Go counterpart.
	Function map[string]*Decl
	// Constant maps a PHP constant to its Go constant.
	Constant map[string]*Decl
	// GoOnly lists the funcs and methods marked "(Go only)", in API order.
	GoOnly []*Decl
}

// interfaceMethods satisfy standard Go interfaces (fmt.Stringer, error,
// errors.Is/Unwrap). They are Go plumbing, not API a PHP user looks for, so
// they need no marker.
var interfaceMethods = map[string]bool{"String": true, "Error": true, "Is": true, "Unwrap": true}

// NeedsMarker reports whether d's doc comment must carry exactly one
// counterpart marker: every exported func and method but the interface
// methods.
func NeedsMarker(d *Decl) bool {
	return d.Kind == "func" || d.Kind == "method" && !interfaceMethods[d.Name]
}

func memberKey(class, method string) string { return class + "::" + strings.ToLower(method) }

// constantDocRe is the generated doc comment of a constant:
// "WorkFail is GEARMAN_WORK_FAIL (gearman_return_t)."
var constantDocRe = regexp.MustCompile(`^(\w+) is (GEARMAN_\w+)\b`)

// Check pairs ref with api following the doc comment conventions and returns
// every problem it finds: a func or method without exactly one marker, a
// marker naming something PHP does not have, a PHP name without a Go
// counterpart or with two. The Mapping is usable only without problems.
func Check(ref *Reference, api *API) (*Mapping, []string) {
	m := &Mapping{
		Ref: ref, API: api,
		ClassType: map[string]*Decl{}, Member: map[string]*Decl{},
		Function: map[string]*Decl{}, Constant: map[string]*Decl{},
	}
	var problems []string
	problem := func(d *Decl, format string, args ...any) {
		where := ""
		if d != nil {
			where = fmt.Sprintf("%s:%d: %s: ", d.Pos.Filename, d.Pos.Line, d.ID())
		}
		problems = append(problems, where+fmt.Sprintf(format, args...))
	}
	claim := func(key string, d *Decl) {
		if prev, ok := m.Member[key]; ok {
			problem(d, "PHP %s is already the counterpart of %s; name it in one doc comment only", key, prev.ID())
			return
		}
		m.Member[key] = d
	}
	functions := map[string]bool{}
	for _, f := range ref.Functions {
		functions[f.Name] = true
	}

	// Types first: methods need to know which class their receiver is.
	typeClass := map[string]string{} // Go type -> PHP class
	for _, d := range api.Decls {
		if d.Kind != "type" {
			continue
		}
		for _, name := range ParseMarker(d.Doc).PHP {
			if strings.Contains(name, "::") {
				continue // a member, handled below once the class is known
			}
			if ref.Class(name) == nil {
				problem(d, "(PHP %s): the extension has no class %s", name, name)
				continue
			}
			if prev, ok := m.ClassType[name]; ok {
				problem(d, "(PHP %s): %s already stands for %s", name, prev.ID(), name)
				continue
			}
			if typeClass[d.Name] != "" {
				problem(d, "names two PHP classes, %s and %s", typeClass[d.Name], name)
				continue
			}
			m.ClassType[name], typeClass[d.Name] = d, name
		}
	}
	for _, d := range api.Decls {
		if d.Kind != "type" {
			continue
		}
		for _, name := range ParseMarker(d.Doc).PHP {
			class, method, ok := strings.Cut(name, "::")
			if !ok {
				continue
			}
			if class != typeClass[d.Name] {
				problem(d, "(PHP %s): only the type that stands for %s may name its members", name, class)
				continue
			}
			if !ref.knows(class, method) {
				problem(d, "(PHP %s): neither the reflection nor the manual has it", name)
				continue
			}
			claim(memberKey(class, method), d)
		}
	}

	for _, d := range api.Decls {
		if !NeedsMarker(d) {
			continue
		}
		mk := ParseMarker(d.Doc)
		if n := len(mk.PHP) + mk.GoOnly; n != 1 {
			problem(d, "doc comment has %d counterpart markers, want exactly one: \"(PHP name)\" or \"(Go only)\"", n)
			continue
		}
		if mk.GoOnly == 1 {
			m.GoOnly = append(m.GoOnly, d)
			continue
		}
		name := mk.PHP[0]
		switch {
		case d.Kind == "func" && strings.HasPrefix(name, "new "):
			class := strings.TrimPrefix(name, "new ")
			if ref.Class(class) == nil {
				problem(d, "(PHP %s): the extension has no class %s", name, class)
				continue
			}
			claim(memberKey(class, "__construct"), d)
		case d.Kind == "func":
			if !functions[name] {
				problem(d, "(PHP %s): the extension has no function %s", name, name)
				continue
			}
			if prev, ok := m.Function[name]; ok {
				problem(d, "(PHP %s) is already the counterpart of %s", name, prev.ID())
				continue
			}
			m.Function[name] = d
		default: // method
			class := typeClass[d.Recv]
			switch {
			case class == "":
				problem(d, "(PHP %s): type %s stands for no PHP class; mark the type \"(PHP GearmanX)\" or the method \"(Go only)\"", name, d.Recv)
			case strings.Contains(name, "::") || strings.HasPrefix(name, "new "):
				problem(d, "(PHP %s): a method names a method of %s without the class: \"(PHP %s)\"", name, class, name[strings.LastIndex(name, ":")+1:])
			case !ref.knows(class, name):
				problem(d, "(PHP %s): %s has no method %s in the reflection or the manual", name, class, name)
			default:
				claim(memberKey(class, name), d)
			}
		}
	}

	// Every PHP class, method and manual name needs its counterpart.
	for _, c := range ref.Classes {
		if m.ClassType[c.Name] == nil {
			problem(nil, "PHP class %s has no Go counterpart: mark a type's doc comment \"(PHP %s)\"", c.Name, c.Name)
		}
		for _, fn := range c.Methods {
			if !fn.Inherited && m.Member[memberKey(c.Name, fn.Name)] == nil {
				problem(nil, "PHP %s::%s has no Go counterpart: %s", c.Name, fn.Name, missingHint(c.Name, fn.Name))
			}
		}
	}
	for _, name := range ref.ManualOnly() {
		class, method, _ := strings.Cut(name, "::")
		if m.Member[memberKey(class, method)] == nil {
			problem(nil, "PHP %s (PHP manual) has no Go counterpart: %s", name, missingHint(class, method))
		}
	}
	for _, f := range ref.Functions {
		if m.Function[f.Name] != nil {
			continue
		}
		key := ref.functionMember(f.Name)
		if d := m.Member[key]; key != "" && d != nil {
			m.Function[f.Name] = d
			continue
		}
		problem(nil, "PHP function %s has no Go counterpart: mark a Go func \"(PHP %s)\"", f.Name, f.Name)
	}

	// Constants: the generated doc comment names the C constant, which is
	// also PHP's name.
	for _, d := range api.Decls {
		if d.Kind != "const" {
			continue
		}
		sub := constantDocRe.FindStringSubmatch(d.Doc)
		if sub == nil || sub[1] != d.Name {
			continue
		}
		if prev, ok := m.Constant[sub[2]]; ok {
			problem(d, "%s is already the counterpart of %s", sub[2], prev.ID())
			continue
		}
		m.Constant[sub[2]] = d
	}
	for _, c := range ref.Constants {
		if m.Constant[c.Name] == nil {
			problem(nil, "PHP constant %s has no Go counterpart: its doc comment must read \"GoName is %s ...\"", c.Name, c.Name)
		}
	}
	sort.Strings(problems)
	return m, problems
}

// missingHint tells how to give a PHP method its Go counterpart.
func missingHint(class, method string) string {
	marker := "mark its Go method \"(PHP " + method + ")\""
	if method == "__construct" {
		marker = "mark its Go constructor \"(PHP new " + class + ")\""
	}
	return marker + ", or, if Go has none, say why in the doc comment of the type for " +
		class + ", naming it \"(PHP " + class + "::" + method + ")\""
}

// knows reports whether class has method, in the reflection or the manual.
func (r *Reference) knows(class, method string) bool {
	c := r.Class(class)
	if c == nil {
		return false
	}
	if c.Method(method) != nil {
		return true
	}
	for _, name := range r.Manual {
		if strings.EqualFold(name, class+"::"+method) {
			return true
		}
	}
	return false
}

// functionMember returns the method key a procedural function stands for:
// gearman_client_do_normal is GearmanClient::doNormal. The extension's
// names are not fully regular, so besides the plain name it tries the class
// word as a prefix (gearman_task_numerator is taskNumerator), "get"
// (gearman_worker_errno is getErrno) and create for the constructor.
func (r *Reference) functionMember(function string) string {
	rest, ok := strings.CutPrefix(function, "gearman_")
	if !ok {
		return ""
	}
	word, rest, ok := strings.Cut(rest, "_")
	if !ok {
		return ""
	}
	class := r.Class("Gearman" + strings.ToUpper(word[:1]) + word[1:])
	if class == nil {
		return ""
	}
	flat := strings.ReplaceAll(rest, "_", "")
	if flat == "create" {
		flat = "__construct"
	}
	for _, cand := range []string{flat, word + flat, "get" + flat} {
		if fn := class.Method(cand); fn != nil && !fn.Inherited {
			return memberKey(class.Name, fn.Name)
		}
	}
	return ""
}
