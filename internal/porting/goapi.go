package porting

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/build"
	"go/constant"
	"go/doc"
	"go/doc/comment"
	"go/parser"
	"go/printer"
	"go/token"
	"path/filepath"
	"regexp"
	"strings"
)

// API is the exported API of one Go package, read from its source.
type API struct {
	Name  string // package name
	Doc   string // package doc comment
	Decls []*Decl
	pkg   *doc.Package
}

// Decl is one exported identifier.
type Decl struct {
	Kind string // "type", "func", "method", "const" or "var"
	Recv string // receiver type of a method, without "*"
	Ptr  bool   // the method has a pointer receiver
	Name string
	Sig  string // funcs and methods: "Name(params) results"
	Doc  string // "" if undocumented
	Pos  token.Position

	// Constants only.
	GoType string // "ReturnCode", or "untyped int" / "untyped string"
	Value  string // evaluated value, "" if it could not be evaluated
}

// ID is how problems and tables name d: "Client.DoNormal", "NewClient".
func (d *Decl) ID() string {
	if d.Recv != "" {
		return d.Recv + "." + d.Name
	}
	return d.Name
}

// LoadPackage parses the Go files of the package in dir that a cgo build for
// the host would compile, tests excluded. Nothing is compiled, so cgo
// itself is not needed.
func LoadPackage(dir string) (*API, error) {
	ctx := build.Default
	ctx.CgoEnabled = true
	bp, err := ctx.ImportDir(dir, 0)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range append(append([]string{}, bp.GoFiles...), bp.CgoFiles...) {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	// Values of constants, for the constants table; go/doc below drops
	// unexported declarations, so collect them first.
	values := constValues(files)
	pkg, err := doc.NewFromFiles(fset, files, bp.ImportPath)
	if err != nil {
		return nil, err
	}
	api := &API{Name: pkg.Name, Doc: pkg.Doc, pkg: pkg}
	pos := func(n ast.Node) token.Position {
		p := fset.Position(n.Pos())
		p.Filename = filepath.Base(p.Filename)
		return p
	}
	addFuncs := func(fs []*doc.Func) {
		for _, f := range fs {
			d := &Decl{Kind: "func", Name: f.Name, Doc: f.Doc, Pos: pos(f.Decl), Sig: f.Name + funcType(fset, f.Decl.Type)}
			if f.Recv != "" {
				d.Kind = "method"
				d.Recv = strings.TrimPrefix(f.Recv, "*")
				d.Ptr = strings.HasPrefix(f.Recv, "*")
			}
			api.Decls = append(api.Decls, d)
		}
	}
	addValues := func(kind string, vs []*doc.Value) {
		for _, v := range vs {
			for _, spec := range v.Decl.Specs {
				s := spec.(*ast.ValueSpec)
				text := v.Doc // a group's comment documents its members
				if s.Doc != nil {
					text = s.Doc.Text()
				} else if s.Comment != nil {
					text = s.Comment.Text()
				}
				for _, name := range s.Names {
					if !name.IsExported() {
						continue
					}
					d := &Decl{Kind: kind, Name: name.Name, Doc: text, Pos: pos(name)}
					if kind == "const" {
						d.GoType, d.Value = values[name.Name].typ, values[name.Name].value
					}
					api.Decls = append(api.Decls, d)
				}
			}
		}
	}
	addValues("const", pkg.Consts)
	addValues("var", pkg.Vars)
	addFuncs(pkg.Funcs)
	for _, t := range pkg.Types {
		api.Decls = append(api.Decls, &Decl{Kind: "type", Name: t.Name, Doc: t.Doc, Pos: pos(t.Decl)})
		addValues("const", t.Consts)
		addValues("var", t.Vars)
		addFuncs(t.Funcs)
		addFuncs(t.Methods)
	}
	return api, nil
}

// funcType prints a function's parameters and results as in the source.
func funcType(fset *token.FileSet, ft *ast.FuncType) string {
	var b bytes.Buffer
	printer.Fprint(&b, fset, ft)
	return strings.TrimPrefix(b.String(), "func")
}

type constValue struct{ typ, value string }

// constValues evaluates the package's constant declarations well enough for
// the generated ones: literals, shifts and references to earlier constants.
// A constant it cannot evaluate (iota, conversions) gets an empty value.
func constValues(files []*ast.File) map[string]constValue {
	known := map[string]constant.Value{}
	out := map[string]constValue{}
	var eval func(e ast.Expr) constant.Value
	eval = func(e ast.Expr) constant.Value {
		switch e := e.(type) {
		case *ast.BasicLit:
			return constant.MakeFromLiteral(e.Value, e.Kind, 0)
		case *ast.ParenExpr:
			return eval(e.X)
		case *ast.Ident:
			if v, ok := known[e.Name]; ok {
				return v
			}
		case *ast.UnaryExpr:
			if x := eval(e.X); x.Kind() != constant.Unknown {
				return constant.UnaryOp(e.Op, x, 0)
			}
		case *ast.BinaryExpr:
			x, y := eval(e.X), eval(e.Y)
			if x.Kind() == constant.Unknown || y.Kind() == constant.Unknown {
				break
			}
			if e.Op == token.SHL || e.Op == token.SHR {
				if s, ok := constant.Uint64Val(y); ok {
					return constant.Shift(x, e.Op, uint(s))
				}
				break
			}
			return constant.BinaryOp(x, e.Op, y)
		}
		return constant.MakeUnknown()
	}
	for _, f := range files {
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				s := spec.(*ast.ValueSpec)
				for i, name := range s.Names {
					if i >= len(s.Values) {
						continue // implicit repetition (iota): not evaluated
					}
					v := eval(s.Values[i])
					known[name.Name] = v
					cv := constValue{}
					if id, ok := s.Type.(*ast.Ident); ok {
						cv.typ = id.Name
					} else if s.Type == nil {
						switch v.Kind() {
						case constant.String:
							cv.typ = "untyped string"
						case constant.Int:
							cv.typ = "untyped int"
						}
					}
					switch v.Kind() {
					case constant.String:
						cv.value = constant.StringVal(v)
					case constant.Int:
						cv.value = v.ExactString()
					}
					out[name.Name] = cv
				}
			}
		}
	}
	return out
}

// ---- doc comment conventions ----

// markerRe finds the counterpart markers of a doc comment whose white space
// was collapsed: "(PHP doNormal)", "(PHP new GearmanClient)",
// "(PHP gearman_version)", "(PHP GearmanTask)", "(PHP GearmanTask::__construct)"
// and "(Go only)".
var markerRe = regexp.MustCompile(`\((?:PHP ((?:new )?[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)?)|(Go only))\)`)

// Marker is what a doc comment says about the PHP counterpart.
type Marker struct {
	PHP    []string // names in "(PHP name)", in order
	GoOnly int      // how many "(Go only)"
}

// ParseMarker returns the markers in a doc comment. Line breaks inside a
// marker are allowed: gofmt-wrapped comments stay valid.
func ParseMarker(text string) Marker {
	var m Marker
	for _, sub := range markerRe.FindAllStringSubmatch(strings.Join(strings.Fields(text), " "), -1) {
		if sub[2] != "" {
			m.GoOnly++
		} else {
			m.PHP = append(m.PHP, sub[1])
		}
	}
	return m
}

// differencePrefix starts each doc paragraph that describes a behaviour
// differing from PHP's; the paragraph goes into the porting table.
const differencePrefix = "Unlike PHP"

// deprecatedPrefix starts Go's deprecation paragraph.
const deprecatedPrefix = "Deprecated:"

// paragraphs returns the paragraphs of a doc comment that start with prefix,
// rendered as one line of Markdown each.
func (a *API) paragraphs(text, prefix string) []string {
	var out []string
	for _, b := range a.pkg.Parser().Parse(text).Content {
		p, ok := b.(*comment.Paragraph)
		if !ok {
			continue
		}
		if strings.HasPrefix(plainText(p.Text), prefix) {
			out = append(out, a.markdown(&comment.Doc{Content: []comment.Block{p}}))
		}
	}
	return out
}

// Differences returns the "Unlike PHP" paragraphs of d's doc comment.
func (a *API) Differences(d *Decl) []string { return a.paragraphs(d.Doc, differencePrefix) }

// Deprecation returns the "Deprecated:" paragraph of d's doc comment, if any.
func (a *API) Deprecation(d *Decl) string {
	if p := a.paragraphs(d.Doc, deprecatedPrefix); len(p) > 0 {
		return p[0]
	}
	return ""
}

// Synopsis returns the first sentence of d's doc comment, as Markdown.
func (a *API) Synopsis(d *Decl) string {
	return a.markdown(a.pkg.Parser().Parse(a.pkg.Synopsis(d.Doc)))
}

// Section returns the blocks under the heading "# title" of the package doc
// comment, as Markdown.
func (a *API) Section(title string) (string, error) {
	var blocks []comment.Block
	in := false
	for _, b := range a.pkg.Parser().Parse(a.Doc).Content {
		if h, ok := b.(*comment.Heading); ok {
			in = plainText(h.Text) == title
			continue
		}
		if in {
			blocks = append(blocks, b)
		}
	}
	if len(blocks) == 0 {
		return "", fmt.Errorf("package %s: its doc comment has no section %q", a.Name, "# "+title)
	}
	return a.markdown(&comment.Doc{Content: blocks}), nil
}

// markdown renders doc comment blocks as Markdown; doc links become plain
// text, as the generated file has no page to link to.
func (a *API) markdown(d *comment.Doc) string {
	p := &comment.Printer{DocLinkURL: func(*comment.DocLink) string { return "" }}
	return strings.TrimSpace(string(p.Markdown(d)))
}

// plainText returns the text of a paragraph or heading without markup.
func plainText(texts []comment.Text) string {
	var b strings.Builder
	for _, t := range texts {
		switch t := t.(type) {
		case comment.Plain:
			b.WriteString(string(t))
		case comment.Italic:
			b.WriteString(string(t))
		case *comment.Link:
			b.WriteString(plainText(t.Text))
		case *comment.DocLink:
			b.WriteString(plainText(t.Text))
		}
	}
	return b.String()
}

// Undocumented returns the exported identifiers without a doc comment, as
// "file:line: Name".
func (a *API) Undocumented() []string {
	var out []string
	for _, d := range a.Decls {
		if strings.TrimSpace(d.Doc) == "" {
			out = append(out, fmt.Sprintf("%s:%d: %s %s", d.Pos.Filename, d.Pos.Line, d.Kind, d.ID()))
		}
	}
	return out
}

// ParagraphsWith returns the paragraphs of a doc comment that contain s once
// white space is collapsed, as Markdown.
func (a *API) ParagraphsWith(text, s string) []string {
	var out []string
	for _, b := range a.pkg.Parser().Parse(text).Content {
		if p, ok := b.(*comment.Paragraph); ok && strings.Contains(strings.Join(strings.Fields(plainText(p.Text)), " "), s) {
			out = append(out, a.markdown(&comment.Doc{Content: []comment.Block{p}}))
		}
	}
	return out
}
