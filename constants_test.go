package gearman

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// phpConstant is one line of testdata/php_constants.txt: the 157 constants
// the PECL gearman extension (2.1.0, built against libgearman 1.1.20)
// exports, as printed by `php --re gearman`.
type phpConstant struct {
	name  string
	value string
}

func readPHPConstants(t *testing.T) []phpConstant {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "php_constants.txt"))
	require.NoError(t, err)
	defer f.Close()
	var out []phpConstant
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		require.True(t, ok, "php_constants.txt:%d: want NAME VALUE, got %q", n, line)
		out = append(out, phpConstant{name: name, value: strings.TrimSpace(value)})
	}
	require.NoError(t, sc.Err())
	return out
}

func constantsByCName(t *testing.T) map[string]cConstant {
	t.Helper()
	m := make(map[string]cConstant, len(cConstants))
	for _, c := range cConstants {
		_, dup := m[c.CName]
		require.False(t, dup, "%s listed twice in cConstants", c.CName)
		m[c.CName] = c
	}
	return m
}

func TestConstantsMatchPHP(t *testing.T) {
	php := readPHPConstants(t)
	require.Len(t, php, 157, "the PHP extension exports 157 constants")
	byName := constantsByCName(t)
	seen := map[string]bool{}
	for _, p := range php {
		require.False(t, seen[p.name], "%s twice in php_constants.txt", p.name)
		seen[p.name] = true
		c, ok := byName[p.name]
		if !assertOK(t, ok, "PHP constant %s is missing from cConstants", p.name) {
			continue
		}
		if c.Type == "untyped string" {
			require.Equal(t, p.value, c.StrValue, p.name)
			continue
		}
		want, err := strconv.ParseInt(p.value, 10, 64)
		require.NoError(t, err, "%s: value %q", p.name, p.value)
		require.Equal(t, want, c.Value, p.name)
	}
}

// assertOK is require.True that lets the loop report every missing name.
func assertOK(t *testing.T, ok bool, format string, args ...any) bool {
	t.Helper()
	if !ok {
		t.Errorf(format, args...)
	}
	return ok
}

// namingRule re-derives a Go name from a C name, independently of the
// generator: drop GEARMAN_, capitalise each word, keep IO, TCP, ID and EOF
// upper-case.
func namingRule(cName string) string {
	rest, ok := strings.CutPrefix(cName, "GEARMAN_")
	if !ok {
		return ""
	}
	var b strings.Builder
	for _, w := range strings.Split(rest, "_") {
		switch w {
		case "IO", "TCP", "ID", "EOF":
			b.WriteString(w)
		default:
			b.WriteString(strings.ToUpper(w[:1]) + strings.ToLower(w[1:]))
		}
	}
	return b.String()
}

func TestConstantsNamingRule(t *testing.T) {
	// The examples of the contract.
	for c, g := range map[string]string{
		"GEARMAN_WORK_FAIL":             "WorkFail",
		"GEARMAN_IO_WAIT":               "IOWait",
		"GEARMAN_DEFAULT_TCP_PORT":      "DefaultTCPPort",
		"GEARMAN_COMMAND_SET_CLIENT_ID": "CommandSetClientID",
		"GEARMAN_PIPE_EOF":              "PipeEOF",
		"GEARMAN_NO_ACTIVE_FDS":         "NoActiveFds",
		"GEARMAN_CON_EXTERNAL_FD":       "ConExternalFd",
		"GEARMAN_GETADDRINFO":           "Getaddrinfo",
		"GEARMAN_COMMAND_SUBMIT_JOB_BG": "CommandSubmitJobBg",
		"GEARMAN_CLIENT_SSL":            "ClientSsl",
	} {
		require.Equal(t, g, namingRule(c), c)
	}

	byName := constantsByCName(t)
	for c, g := range map[string]string{
		"GEARMAN_WORK_FAIL":             "WorkFail",
		"GEARMAN_IO_WAIT":               "IOWait",
		"GEARMAN_DEFAULT_TCP_PORT":      "DefaultTCPPort",
		"GEARMAN_COMMAND_SET_CLIENT_ID": "CommandSetClientID",
		"GEARMAN_PIPE_EOF":              "PipeEOF",
		"GEARMAN_CLIENT_SSL":            "ClientSsl",
	} {
		require.Equal(t, g, byName[c].GoName, c)
	}

	goNames := map[string]string{}
	for _, c := range cConstants {
		require.Equal(t, namingRule(c.CName), c.GoName, c.CName)
		prev, dup := goNames[c.GoName]
		require.False(t, dup, "%s and %s both named %s", prev, c.CName, c.GoName)
		goNames[c.GoName] = c.CName
	}
	// GEARMAN_ERROR would be "Error", the package's error type.
	require.NotContains(t, byName, "GEARMAN_ERROR")
}

// stringers turns a table value back into a typed constant and calls its
// String method. A new generated type must be added here.
var stringers = map[string]func(int64) string{
	"ReturnCode":          func(v int64) string { return ReturnCode(v).String() },
	"Verbose":             func(v int64) string { return Verbose(v).String() },
	"UniversalOptions":    func(v int64) string { return UniversalOptions(v).String() },
	"ConnectionOptions":   func(v int64) string { return ConnectionOptions(v).String() },
	"ConnectionSendState": func(v int64) string { return ConnectionSendState(v).String() },
	"ConnectionRecvState": func(v int64) string { return ConnectionRecvState(v).String() },
	"Command":             func(v int64) string { return Command(v).String() },
	"TaskState":           func(v int64) string { return TaskState(v).String() },
	"JobPriority":         func(v int64) string { return JobPriority(v).String() },
	"ClientOptions":       func(v int64) string { return ClientOptions(v).String() },
	"ClientState":         func(v int64) string { return ClientState(v).String() },
	"WorkerOptions":       func(v int64) string { return WorkerOptions(v).String() },
	"WorkerState":         func(v int64) string { return WorkerState(v).String() },
}

func TestConstantsString(t *testing.T) {
	for _, c := range cConstants {
		if c.CEnum == "" {
			require.Contains(t, []string{"untyped int", "untyped string"}, c.Type, c.CName)
			continue
		}
		str, ok := stringers[c.Type]
		require.True(t, ok, "no String test for type %s", c.Type)
		want := c.CName
		if c.AliasOf != "" {
			want = c.AliasOf // a shared value prints as the first name
		}
		require.Equal(t, want, str(c.Value), c.CName)
	}
	require.Equal(t, "GEARMAN_VERBOSE(99)", Verbose(99).String())
	require.Equal(t, "GEARMAN_COMMAND(-1)", Command(-1).String())
	require.Equal(t, "GEARMAN_WORKER_PACKET_INIT|GEARMAN_WORKER_GRAB_UNIQ|GEARMAN_WORKER_GRAB_ALL",
		WorkerOptions(644).String()) // a worker's default options()
	require.Equal(t, "GEARMAN_CLIENT_ALLOCATED|GEARMAN_CLIENT_OPTIONS(0x10000)",
		(ClientAllocated | 1<<16).String())
	require.Equal(t, "GEARMAN_CLIENT_OPTIONS(0)", ClientOptions(0).String())
	require.Equal(t, "GEARMAN_CLIENT_MAX", ClientMax.String())
}

func TestReturnCodeIsError(t *testing.T) {
	var err error = Timeout
	require.Equal(t, "GEARMAN_TIMEOUT", err.Error())
	require.Equal(t, "GEARMAN_TIMEOUT", Timeout.String())
	require.Equal(t, "GEARMAN_TIMEOUT", fmt.Sprint(Timeout))
	require.Equal(t, "GEARMAN_SUCCESS", Success.Error())

	wrapped := fmt.Errorf("x: %w", Timeout)
	require.ErrorIs(t, wrapped, Timeout)
	require.True(t, errors.Is(wrapped, Timeout))
	require.False(t, errors.Is(wrapped, LostConnection))
	var rc ReturnCode
	require.True(t, errors.As(wrapped, &rc))
	require.Equal(t, Timeout, rc)

	require.EqualValues(t, 49, InvalidArgument)
	require.Equal(t, ReturnCode(49), InvalidArgument)
	require.EqualValues(t, 33, NoRegisteredFunction)
	require.Equal(t, WorkFail, Fail)
	require.Equal(t, WorkFail, Fatal)
	require.Equal(t, "GEARMAN_WORK_FAIL", Fail.Error())
	require.Equal(t, "GEARMAN_WORK_FAIL", ReturnCode(24).Error())
	require.Equal(t, "GEARMAN_WORK_ERROR", ReturnCode(19).Error())
	require.Equal(t, "GEARMAN_RETURN(99)", ReturnCode(99).Error())
	require.Equal(t, "GEARMAN_RETURN(-1)", ReturnCode(-1).String())
	require.Equal(t, "GEARMAN_MAX_RETURN", MaxReturn.String())
	for rc := Success; rc < MaxReturn; rc++ {
		require.True(t, strings.HasPrefix(rc.Error(), "GEARMAN_"), "%d", int(rc))
		require.NotContains(t, rc.Error(), "(", "every value below MaxReturn has a name")
	}
}

// TestConstantsGeneratedUpToDate regenerates constants.go from the installed
// headers and requires it to equal the committed file.
func TestConstantsGeneratedUpToDate(t *testing.T) {
	for _, tool := range []string{"cc", "pkg-config"} {
		if cc := strings.Fields(os.Getenv("CC")); tool == "cc" && len(cc) > 0 {
			tool = cc[0]
		}
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is needed to check constants.go against the headers: %v", tool, err)
			}
			t.Skipf("%s not found (%v); set CI=true to make this fail", tool, err)
		}
	}
	goTool, err := exec.LookPath("go")
	require.NoError(t, err)

	out := filepath.Join(t.TempDir(), "constants.go")
	cmd := exec.Command(goTool, "run", "./internal/genconst", "-o", out)
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "go run ./internal/genconst: %s", msg)

	got, err := os.ReadFile(out)
	require.NoError(t, err)
	want, err := os.ReadFile("constants.go")
	require.NoError(t, err)
	if d := firstDiff(string(want), string(got)); d != "" {
		t.Fatalf("constants.go is out of date with the installed libgearman headers; run go generate.\n%s", d)
	}
}

// firstDiff describes the first line where the committed file (want) and the
// regenerated one (got) differ, or returns "" if they are equal.
func firstDiff(want, got string) string {
	if want == got {
		return ""
	}
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	line := func(l []string, i int) string {
		if i < len(l) {
			return strconv.Quote(l[i])
		}
		return "(end of file)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "first difference at line %d (committed %d lines, generated %d):\n", i+1, len(w), len(g))
	for j := i; j < i+3; j++ {
		fmt.Fprintf(&b, "  committed: %s\n  generated: %s\n", line(w, j), line(g, j))
	}
	return b.String()
}
