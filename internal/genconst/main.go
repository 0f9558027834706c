// Command genconst generates constants.go of package gearman from the
// installed libgearman headers.
//
// Usage (from the module root, see generate.go):
//
//	go run ./internal/genconst -o constants.go
//
// Nothing in the output is typed in by hand. The generator
//
//  1. preprocesses a one-line C file that includes <libgearman-1.0/gearman.h>
//     with `cc -E -dD $(pkg-config --cflags gearmand)`, so comments and
//     #if blocks are resolved by the compiler and #define lines and line
//     markers (which header a declaration comes from) are kept;
//  2. parses that text for the members of the C enums listed in [enums]
//     (every member, in declaration order) and for the #defines listed in
//     [defines];
//  3. writes a temporary C program that prints the value of each of those
//     names, compiles it with the same compiler and flags, and runs it;
//  4. emits Go source (formatted with go/format): typed constants, one Go
//     type per C enum with a String method driven by a generated name
//     table, ReturnCode.Error, untyped constants for the #defines, and the
//     table cConstants used by tests and tools.
//
// The C compiler is $CC if set, otherwise cc. Temporary files are removed.
package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"go/format"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// pkgConfigName is the pkg-config module of libgearman.
const pkgConfigName = "gearmand"

// topHeader is the umbrella header that includes every public header.
const topHeader = "libgearman-1.0/gearman.h"

// enumSpec maps one C enum to one Go type.
type enumSpec struct {
	CEnum  string // C name: enum tag or typedef name
	GoType string
	Flags  bool     // bit-flag enum: String decomposes OR-ed values
	Skip   []string // members left out of the Go API
	// Required lists names that must exist with this type. They are
	// normally enum members; if the header makes one a #define instead,
	// it is still generated, typed as GoType.
	Required []string
	Doc      string // extra type documentation (after the generated line)
}

// enums are the C enums that become Go types, in output order.
var enums = []enumSpec{
	{
		CEnum: "gearman_return_t", GoType: "ReturnCode",
		// GEARMAN_ERROR (= GEARMAN_WORK_ERROR) would become "Error" and
		// clash with the package's Error type.
		Skip:     []string{"GEARMAN_ERROR"},
		Required: []string{"GEARMAN_FAIL", "GEARMAN_FATAL"},
		Doc: "ReturnCode implements error in the way syscall.Errno does: Error and\n" +
			"String both return the C name, e.g. \"GEARMAN_TIMEOUT\", so a ReturnCode can\n" +
			"be returned, wrapped and matched with errors.Is. A value shared by several\n" +
			"names prints as the first name declared in the header (24 is\n" +
			"\"GEARMAN_WORK_FAIL\", not \"GEARMAN_FAIL\"). An unknown value prints as\n" +
			"\"GEARMAN_RETURN(n)\".",
	},
	{CEnum: "gearman_verbose_t", GoType: "Verbose"},
	{CEnum: "gearman_universal_options_t", GoType: "UniversalOptions"},
	{CEnum: "gearman_connection_options_t", GoType: "ConnectionOptions"},
	{CEnum: "gearman_con_send_t", GoType: "ConnectionSendState"},
	{CEnum: "gearman_con_recv_t", GoType: "ConnectionRecvState"},
	{CEnum: "gearman_command_t", GoType: "Command"},
	{CEnum: "gearman_task_state_t", GoType: "TaskState"},
	{CEnum: "gearman_job_priority_t", GoType: "JobPriority"},
	{CEnum: "gearman_client_options_t", GoType: "ClientOptions", Flags: true},
	{CEnum: "gearman_client_t", GoType: "ClientState"},
	{CEnum: "gearman_worker_options_t", GoType: "WorkerOptions", Flags: true},
	{CEnum: "gearman_worker_state_t", GoType: "WorkerState"},
}

// defineSpec is a #define that becomes an untyped Go constant.
type defineSpec struct {
	CName    string
	Optional bool // left out (not an error) if the headers lack it
}

// defines are the limits and defaults, in output order.
var defines = []defineSpec{
	{CName: "GEARMAN_DEFAULT_TCP_HOST"},
	{CName: "GEARMAN_DEFAULT_TCP_PORT"},
	{CName: "GEARMAN_DEFAULT_TCP_PORT_STRING", Optional: true},
	{CName: "GEARMAN_DEFAULT_TCP_SERVICE", Optional: true},
	{CName: "GEARMAN_DEFAULT_SOCKET_TIMEOUT"},
	{CName: "GEARMAN_DEFAULT_SOCKET_SEND_SIZE"},
	{CName: "GEARMAN_DEFAULT_SOCKET_RECV_SIZE"},
	{CName: "GEARMAN_MAX_ERROR_SIZE"},
	{CName: "GEARMAN_PACKET_HEADER_SIZE"},
	{CName: "GEARMAN_JOB_HANDLE_SIZE"},
	{CName: "GEARMAN_OPTION_SIZE"},
	{CName: "GEARMAN_UNIQUE_SIZE"},
	{CName: "GEARMAN_MAX_COMMAND_ARGS"},
	{CName: "GEARMAN_ARGS_BUFFER_SIZE"},
	{CName: "GEARMAN_SEND_BUFFER_SIZE"},
	{CName: "GEARMAN_RECV_BUFFER_SIZE"},
	{CName: "GEARMAN_WORKER_WAIT_TIMEOUT"},
	{CName: "GEARMAN_FUNCTION_MAX_SIZE"},
	{CName: "GEARMAN_MAX_IDENTIFIER"},
}

// upperWords are the words the naming rule keeps upper-case.
var upperWords = map[string]bool{"IO": true, "TCP": true, "ID": true, "EOF": true}

// goName applies the naming rule: drop GEARMAN_, then join the words, each
// with a capital first letter and the rest lower-case, except the words in
// upperWords, which stay upper-case.
func goName(cName string) (string, error) {
	rest, ok := strings.CutPrefix(cName, "GEARMAN_")
	if !ok || rest == "" {
		return "", fmt.Errorf("%s: no GEARMAN_ prefix", cName)
	}
	var b strings.Builder
	for _, w := range strings.Split(rest, "_") {
		if w == "" {
			return "", fmt.Errorf("%s: empty word", cName)
		}
		if upperWords[w] {
			b.WriteString(w)
			continue
		}
		b.WriteString(strings.ToUpper(w[:1]))
		b.WriteString(strings.ToLower(w[1:]))
	}
	n := b.String()
	if !token.IsIdentifier(n) || !token.IsExported(n) {
		return "", fmt.Errorf("%s: %q is not an exported Go identifier", cName, n)
	}
	return n, nil
}

// ---------------------------------------------------------------------------
// Reading the preprocessed headers.

// tok is a C token with the header file it comes from.
type tok struct {
	text string
	file string
}

// cEnum is an enum found in the headers.
type cEnum struct {
	names   []string // tag and/or typedef name
	file    string
	members []cMember
}

type cMember struct {
	name string
	init []string // initializer tokens, nil if none
}

// cDefine is a #define found in the headers.
type cDefine struct {
	name string
	body string
	file string
}

// scan parses the output of `cc -E -dD`: line markers, #define lines and C
// code. It returns the enums and the #defines of every header.
func scan(pre []byte) ([]*cEnum, map[string]cDefine, error) {
	defs := map[string]cDefine{}
	var toks []tok
	file := ""
	sc := bufio.NewScanner(bytes.NewReader(pre))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			d := strings.TrimSpace(trimmed[1:])
			switch {
			case strings.HasPrefix(d, "define "):
				d = strings.TrimSpace(d[len("define "):])
				name, body, _ := strings.Cut(d, " ")
				if strings.Contains(name, "(") { // function-like macro
					continue
				}
				defs[name] = cDefine{name: name, body: strings.TrimSpace(body), file: file}
			case strings.HasPrefix(d, "undef "):
				delete(defs, strings.TrimSpace(d[len("undef "):]))
			case len(d) > 0 && d[0] >= '0' && d[0] <= '9', strings.HasPrefix(d, "line "):
				// Line marker: # 12 "file" flags
				if i := strings.IndexByte(d, '"'); i >= 0 {
					if f, err := strconv.QuotedPrefix(d[i:]); err == nil {
						if uq, err := strconv.Unquote(f); err == nil {
							file = uq
						}
					}
				}
			}
			continue
		}
		for _, t := range tokenize(line) {
			toks = append(toks, tok{text: t, file: file})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	enums, err := parseEnums(toks)
	return enums, defs, err
}

// tokenize splits a line of preprocessed C into tokens. It only needs to be
// good enough to find enum declarations: identifiers, numbers, string and
// character literals, and single punctuation characters.
func tokenize(s string) []string {
	var out []string
	isIdent := func(r byte) bool {
		return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			i++
		case isIdent(c):
			j := i
			for j < len(s) && (isIdent(s[j]) || s[j] == '.') {
				j++
			}
			out = append(out, s[i:j])
			i = j
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j < len(s) {
				j++
			}
			out = append(out, s[i:min(j, len(s))])
			i = j
		default:
			out = append(out, string(c))
			i++
		}
	}
	return out
}

// parseEnums finds `enum [tag] { ... }` in the token stream, including
// `typedef enum [tag] { ... } name;`.
func parseEnums(toks []tok) ([]*cEnum, error) {
	var out []*cEnum
	for i := 0; i < len(toks); i++ {
		if toks[i].text != "enum" {
			continue
		}
		j := i + 1
		var names []string
		if j < len(toks) && isIdentTok(toks[j].text) {
			names = append(names, toks[j].text)
			j++
		}
		if j >= len(toks) || toks[j].text != "{" {
			continue // a use such as `enum gearman_return_t rc`
		}
		e := &cEnum{file: toks[i].file}
		j++
		depth := 0
		var cur []string
		flush := func() error {
			if len(cur) == 0 {
				return nil
			}
			if !isIdentTok(cur[0]) {
				return fmt.Errorf("%s: bad enum member %q", toks[i].file, strings.Join(cur, " "))
			}
			m := cMember{name: cur[0]}
			if len(cur) > 1 {
				if cur[1] != "=" || len(cur) < 3 {
					return fmt.Errorf("%s: bad enum member %q", toks[i].file, strings.Join(cur, " "))
				}
				m.init = append([]string(nil), cur[2:]...)
			}
			e.members = append(e.members, m)
			cur = nil
			return nil
		}
		for ; j < len(toks); j++ {
			t := toks[j].text
			if depth == 0 && t == "}" {
				break
			}
			switch t {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				depth--
			}
			if depth == 0 && t == "," {
				if err := flush(); err != nil {
					return nil, err
				}
				continue
			}
			cur = append(cur, t)
		}
		if j >= len(toks) {
			return nil, fmt.Errorf("%s: unterminated enum", toks[i].file)
		}
		if err := flush(); err != nil {
			return nil, err
		}
		// typedef enum [tag] { ... } name;
		if i > 0 && toks[i-1].text == "typedef" && j+1 < len(toks) && isIdentTok(toks[j+1].text) {
			names = append(names, toks[j+1].text)
		}
		e.names = names
		out = append(out, e)
		i = j
	}
	return out, nil
}

func isIdentTok(s string) bool {
	return s != "" && (s[0] == '_' || unicode.IsLetter(rune(s[0]))) && token.IsIdentifier(s)
}

// relHeader shortens an absolute header path to its include form,
// e.g. /usr/include/libgearman-1.0/return.h -> libgearman-1.0/return.h.
func relHeader(p string) string {
	if i := strings.LastIndex(p, "libgearman-1.0/"); i >= 0 {
		return p[i:]
	}
	return filepath.Base(p)
}

// ---------------------------------------------------------------------------
// The model of the output.

type constant struct {
	CName   string
	GoName  string
	Type    string // Go type, or "untyped int" / "untyped string"
	CEnum   string // C enum, "" for a #define
	Header  string
	AliasOf string // C name of the earlier member with the same value
	Value   int64
	Str     string
	IsStr   bool
}

type goType struct {
	spec    enumSpec
	header  string
	members []*constant
}

// ---------------------------------------------------------------------------

func main() {
	out := flag.String("o", "", "output file (default: standard output)")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: genconst [-o constants.go]")
		os.Exit(2)
	}
	src, err := generate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "genconst:", err)
		os.Exit(1)
	}
	if *out == "" {
		_, err = os.Stdout.Write(src)
	} else {
		err = os.WriteFile(*out, src, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genconst:", err)
		os.Exit(1)
	}
}

func generate() ([]byte, error) {
	cc, cflags, err := compiler()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "genconst-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	// 1. Preprocess the umbrella header.
	inc := filepath.Join(dir, "headers.c")
	if err := os.WriteFile(inc, []byte("#include <"+topHeader+">\n"), 0o600); err != nil {
		return nil, err
	}
	pre, err := run(cc, append(append([]string{}, cflags...), "-E", "-dD", inc)...)
	if err != nil {
		return nil, fmt.Errorf("preprocessing %s: %w", topHeader, err)
	}
	cenums, cdefs, err := scan(pre)
	if err != nil {
		return nil, err
	}

	// 2. Collect the names.
	types, consts, err := collect(cenums, cdefs)
	if err != nil {
		return nil, err
	}
	version := ""
	if d, ok := cdefs["LIBGEARMAN_VERSION_STRING"]; ok {
		version, _ = strconv.Unquote(d.body)
	}

	// 3. Compile and run a C program that prints every value.
	if err := evaluate(cc, cflags, dir, consts); err != nil {
		return nil, err
	}
	markAliases(types)

	// 4. Emit Go.
	return emit(version, types, consts)
}

// compiler returns the C compiler command and the pkg-config cflags.
func compiler() (cc []string, cflags []string, err error) {
	cc = strings.Fields(os.Getenv("CC"))
	if len(cc) == 0 {
		cc = []string{"cc"}
	}
	if _, err := exec.LookPath(cc[0]); err != nil {
		return nil, nil, fmt.Errorf("no C compiler: %w", err)
	}
	flags, err := run([]string{"pkg-config"}, "--cflags", pkgConfigName)
	if err != nil {
		return nil, nil, fmt.Errorf("pkg-config --cflags %s: %w", pkgConfigName, err)
	}
	return cc, strings.Fields(string(flags)), nil
}

func run(cmd []string, args ...string) ([]byte, error) {
	c := exec.Command(cmd[0], append(append([]string{}, cmd[1:]...), args...)...)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", strings.Join(c.Args, " "), err, stderr.Bytes())
	}
	return out, nil
}

// collect matches the specs against the headers.
func collect(cenums []*cEnum, cdefs map[string]cDefine) ([]*goType, []*constant, error) {
	byName := map[string]*cEnum{}
	for _, e := range cenums {
		for _, n := range e.names {
			if prev, ok := byName[n]; ok && prev != e {
				return nil, nil, fmt.Errorf("enum %s declared twice (%s, %s)", n, prev.file, e.file)
			}
			byName[n] = e
		}
	}
	var types []*goType
	var consts []*constant
	goNames := map[string]string{} // Go name -> C name
	cNames := map[string]bool{}
	add := func(c *constant) error {
		n, err := goName(c.CName)
		if err != nil {
			return err
		}
		if prev, ok := goNames[n]; ok {
			return fmt.Errorf("%s and %s both become %s", prev, c.CName, n)
		}
		if cNames[c.CName] {
			return fmt.Errorf("%s listed twice", c.CName)
		}
		goNames[n], cNames[c.CName] = c.CName, true
		c.GoName = n
		consts = append(consts, c)
		return nil
	}
	for _, d := range defines {
		def, ok := cdefs[d.CName]
		if !ok {
			if d.Optional {
				continue
			}
			return nil, nil, fmt.Errorf("#define %s not found in the headers", d.CName)
		}
		if err := add(&constant{CName: d.CName, Header: relHeader(def.file)}); err != nil {
			return nil, nil, err
		}
	}
	for _, s := range enums {
		e, ok := byName[s.CEnum]
		if !ok {
			return nil, nil, fmt.Errorf("enum %s not found in the headers", s.CEnum)
		}
		t := &goType{spec: s, header: relHeader(e.file)}
		skip := map[string]bool{}
		for _, n := range s.Skip {
			skip[n] = true
		}
		seen := map[string]bool{}
		for _, m := range e.members {
			seen[m.name] = true
			if skip[m.name] {
				continue
			}
			c := &constant{CName: m.name, Type: s.GoType, CEnum: s.CEnum, Header: t.header}
			if err := add(c); err != nil {
				return nil, nil, err
			}
			t.members = append(t.members, c)
		}
		for _, n := range s.Required {
			if seen[n] {
				continue
			}
			def, ok := cdefs[n]
			if !ok {
				return nil, nil, fmt.Errorf("%s is neither a member of %s nor a #define", n, s.CEnum)
			}
			c := &constant{CName: n, Type: s.GoType, CEnum: s.CEnum, Header: relHeader(def.file)}
			if err := add(c); err != nil {
				return nil, nil, err
			}
			t.members = append(t.members, c)
		}
		if len(t.members) == 0 {
			return nil, nil, fmt.Errorf("enum %s has no members", s.CEnum)
		}
		types = append(types, t)
	}
	for _, t := range types {
		if c, ok := goNames[t.spec.GoType]; ok {
			return nil, nil, fmt.Errorf("constant %s clashes with type %s", c, t.spec.GoType)
		}
	}
	return types, consts, nil
}

// evaluate compiles and runs a C program that prints the value of every
// constant. Integers are printed in decimal, strings as hex bytes.
func evaluate(cc, cflags []string, dir string, consts []*constant) error {
	var b strings.Builder
	b.WriteString(`#include <stdio.h>
#include <` + topHeader + `>

static void pi(const char *name, long long v) { printf("%s i %lld\n", name, v); }
static void ps(const char *name, const char *s) {
	printf("%s s ", name);
	for (; *s; s++) printf("%02x", (unsigned char)*s);
	printf("\n");
}
#define P(X) _Generic((X), char *: ps, const char *: ps, default: pi)(#X, (X))

int main(void) {
`)
	for _, c := range consts {
		fmt.Fprintf(&b, "\tP(%s);\n", c.CName)
	}
	b.WriteString("\treturn 0;\n}\n")
	srcFile := filepath.Join(dir, "values.c")
	exe := filepath.Join(dir, "values")
	if err := os.WriteFile(srcFile, []byte(b.String()), 0o600); err != nil {
		return err
	}
	if _, err := run(cc, append(append([]string{}, cflags...), "-o", exe, srcFile)...); err != nil {
		return fmt.Errorf("compiling the value printer: %w", err)
	}
	out, err := run([]string{exe})
	if err != nil {
		return err
	}
	byName := map[string]*constant{}
	for _, c := range consts {
		byName[c.CName] = c
	}
	got := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || len(f) > 3 {
			return fmt.Errorf("bad output line %q", line)
		}
		c, ok := byName[f[0]]
		if !ok {
			return fmt.Errorf("unexpected output line %q", line)
		}
		switch f[1] {
		case "i":
			v, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				return fmt.Errorf("bad output line %q: %w", line, err)
			}
			c.Value = v
		case "s":
			if c.CEnum != "" {
				return fmt.Errorf("%s is a string, but listed in %s", c.CName, c.CEnum)
			}
			s := ""
			if len(f) == 3 {
				raw, err := hex.DecodeString(f[2])
				if err != nil {
					return fmt.Errorf("bad output line %q: %w", line, err)
				}
				s = string(raw)
			}
			c.Str, c.IsStr = s, true
		default:
			return fmt.Errorf("bad output line %q", line)
		}
		got++
	}
	if got != len(consts) {
		return fmt.Errorf("value printer printed %d values, want %d", got, len(consts))
	}
	for _, c := range consts {
		if c.CEnum == "" {
			c.Type = "untyped int"
			if c.IsStr {
				c.Type = "untyped string"
			}
		}
	}
	return nil
}

// markAliases records, for each member whose value an earlier member of
// the same enum already has, the name of that earlier member.
func markAliases(types []*goType) {
	for _, t := range types {
		first := map[int64]string{}
		for _, c := range t.members {
			if f, ok := first[c.Value]; ok {
				c.AliasOf = f
				continue
			}
			first[c.Value] = c.CName
		}
	}
}

// ---------------------------------------------------------------------------
// Emitting Go.

// unknownName is the String form of a value without a name, e.g.
// gearman_return_t -> GEARMAN_RETURN.
func unknownName(cEnum string) string {
	return strings.ToUpper(strings.TrimSuffix(cEnum, "_t"))
}

func receiver(goType string) string {
	return strings.ToLower(goType[:1])
}

func lowerFirst(s string) string {
	return strings.ToLower(s[:1]) + s[1:]
}

func isPow2(v int64) (int, bool) {
	if v <= 0 || v&(v-1) != 0 {
		return 0, false
	}
	n := 0
	for v > 1 {
		v >>= 1
		n++
	}
	return n, true
}

// isSentinel reports whether a member only marks the end of an enum
// (GEARMAN_CLIENT_MAX, GEARMAN_WORKER_MAX, ...).
func isSentinel(cName string) bool {
	return strings.HasSuffix(cName, "_MAX")
}

func emit(version string, types []*goType, consts []*constant) ([]byte, error) {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	p("// Code generated by go run ./internal/genconst; DO NOT EDIT.\n")
	from := "the libgearman headers"
	if version != "" {
		from = "the libgearman " + version + " headers"
	}
	p("// Source: %s (%s), values computed by the C compiler.\n\n", from, topHeader)
	p("package gearman\n\n")
	p("import \"strconv\"\n\n")

	// #defines.
	p("// Limits and defaults (#defines).\nconst (\n")
	for _, c := range consts {
		if c.CEnum != "" {
			continue
		}
		p("\t// %s is %s (#define in %s).\n", c.GoName, c.CName, c.Header)
		if c.IsStr {
			p("\t%s = %s\n", c.GoName, strconv.Quote(c.Str))
		} else {
			p("\t%s = %d\n", c.GoName, c.Value)
		}
	}
	p(")\n\n")

	// Enums.
	for _, t := range types {
		s := t.spec
		p("// %s is the C enum %s (%s).\n", s.GoType, s.CEnum, t.header)
		if s.Flags {
			p("// Its values are bit flags; String names each set bit.\n")
		}
		if s.Doc != "" {
			p("//\n")
			for _, l := range strings.Split(s.Doc, "\n") {
				p("// %s\n", l)
			}
		}
		p("type %s int\n\n", s.GoType)
		p("// Members of %s, in header order.\nconst (\n", s.CEnum)
		for _, c := range t.members {
			p("\t// %s is %s (%s)", c.GoName, c.CName, c.CEnum)
			if c.AliasOf != "" {
				p(", an alias of %s", c.AliasOf)
			}
			p(".\n")
			if n, ok := isPow2(c.Value); s.Flags && ok {
				p("\t%s %s = 1 << %d\n", c.GoName, s.GoType, n)
			} else {
				p("\t%s %s = %d\n", c.GoName, s.GoType, c.Value)
			}
		}
		p(")\n\n")
		if err := emitString(&b, t); err != nil {
			return nil, err
		}
		if s.GoType == "ReturnCode" {
			p("// Error returns the C name of %s, as String does.\n", receiver(s.GoType))
			p("func (%s %s) Error() string { return %s.String() }\n\n", receiver(s.GoType), s.GoType, receiver(s.GoType))
		}
	}
	if anyFlags(types) {
		p(`// cFlagName is one named bit of a bit-flag type.
type cFlagName struct {
	v int64
	n string
}

// cFlagsString formats v as the names of its set bits joined by "|";
// bits without a name are appended as unknown(0x...).
func cFlagsString(v int64, names []cFlagName, unknown string) string {
	if v <= 0 {
		return unknown + "(" + strconv.FormatInt(v, 10) + ")"
	}
	var s string
	rest := v
	for _, f := range names {
		if rest&f.v == f.v {
			if s != "" {
				s += "|"
			}
			s += f.n
			rest &^= f.v
		}
	}
	if rest != 0 {
		if s != "" {
			s += "|"
		}
		s += unknown + "(0x" + strconv.FormatInt(rest, 16) + ")"
	}
	return s
}

`)
	}

	// Table.
	p(`// cConstant describes one generated constant.
type cConstant struct {
	CName    string // C name, e.g. "GEARMAN_WORK_FAIL"
	GoName   string // Go name, e.g. "WorkFail"
	Type     string // Go type, or "untyped int" / "untyped string" for a #define
	CEnum    string // C enum, "" for a #define
	Header   string // header that declares it, e.g. "libgearman-1.0/return.h"
	AliasOf  string // C name of the earlier member of the same enum with the same value
	Value    int64  // value; 0 for a string
	StrValue string // value of a string constant
}

// cConstants lists every generated constant: the #defines first, then the
// enums in the order of the types above, members in header order.
var cConstants = []cConstant{
`)
	for _, c := range consts {
		p("\t{CName: %q, GoName: %q, Type: %q, ", c.CName, c.GoName, c.Type)
		if c.CEnum != "" {
			p("CEnum: %q, ", c.CEnum)
		}
		p("Header: %q, ", c.Header)
		if c.AliasOf != "" {
			p("AliasOf: %q, ", c.AliasOf)
		}
		if c.IsStr {
			p("StrValue: %s},\n", c.GoName)
		} else {
			p("Value: int64(%s)},\n", c.GoName)
		}
	}
	p("}\n")

	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting the output: %w\n%s", err, b.Bytes())
	}
	return src, nil
}

func anyFlags(types []*goType) bool {
	for _, t := range types {
		if t.spec.Flags {
			return true
		}
	}
	return false
}

// emitString writes the name table and the String method of one type.
func emitString(b *bytes.Buffer, t *goType) error {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	s := t.spec
	r := receiver(s.GoType)
	table := lowerFirst(s.GoType) + "Names"
	unknown := unknownName(s.CEnum)

	// The canonical member per value: the first declared.
	var canon []*constant
	for _, c := range t.members {
		if c.AliasOf == "" {
			canon = append(canon, c)
		}
	}
	example := canon[0].CName

	if s.Flags {
		// Exact names (any member, sentinel included) first, then bits.
		p("// %s holds the names of single %s bits, in header order.\n", table, s.GoType)
		p("var %s = [...]cFlagName{\n", table)
		for _, c := range canon {
			if _, ok := isPow2(c.Value); ok && !isSentinel(c.CName) {
				p("\t{int64(%s), %q},\n", c.GoName, c.CName)
			}
		}
		p("}\n\n")
		p("// String returns the C name of %s, e.g. %q, or the names of its set\n", r, example)
		p("// bits joined by \"|\". Zero and unknown bits print as %q.\n", unknown+"(...)")
		p("func (%s %s) String() string {\n", r, s.GoType)
		var whole []*constant // names that are not a single bit
		for _, c := range canon {
			if _, ok := isPow2(c.Value); !ok || isSentinel(c.CName) {
				whole = append(whole, c)
			}
		}
		if len(whole) > 0 {
			p("\tswitch %s {\n", r)
			for _, c := range whole {
				p("\tcase %s:\n\t\treturn %q\n", c.GoName, c.CName)
			}
			p("\t}\n")
		}
		p("\treturn cFlagsString(int64(%s), %s[:], %q)\n}\n\n", r, table, unknown)
		return nil
	}

	minV, maxV := canon[0].Value, canon[0].Value
	for _, c := range canon {
		minV, maxV = min(minV, c.Value), max(maxV, c.Value)
	}
	p("// String returns the C name of %s, e.g. %q; a value without a name\n", r, example)
	p("// prints as %q.\n", unknown+"(n)")
	if minV >= 0 && maxV < int64(2*len(canon)+16) {
		p("func (%s %s) String() string {\n", r, s.GoType)
		p("\tif %s >= 0 && int(%s) < len(%s) && %s[%s] != \"\" {\n\t\treturn %s[%s]\n\t}\n", r, r, table, table, r, table, r)
		p("\treturn %q + strconv.Itoa(int(%s)) + \")\"\n}\n\n", unknown+"(", r)
		p("// %s maps each value of %s to its first C name.\n", table, s.GoType)
		p("var %s = [...]string{\n", table)
		sort.SliceStable(canon, func(i, j int) bool { return canon[i].Value < canon[j].Value })
		for _, c := range canon {
			p("\t%s: %q,\n", c.GoName, c.CName)
		}
		p("}\n\n")
		return nil
	}
	p("func (%s %s) String() string {\n", r, s.GoType)
	p("\tif n, ok := %s[%s]; ok {\n\t\treturn n\n\t}\n", table, r)
	p("\treturn %q + strconv.Itoa(int(%s)) + \")\"\n}\n\n", unknown+"(", r)
	p("// %s maps each value of %s to its first C name.\n", table, s.GoType)
	p("var %s = map[%s]string{\n", table, s.GoType)
	for _, c := range canon {
		p("\t%s: %q,\n", c.GoName, c.CName)
	}
	p("}\n\n")
	return nil
}
