package porting

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func loadFixture(t *testing.T, pkg string) (*Reference, *API) {
	t.Helper()
	ref, err := LoadReference(filepath.Join("testdata", "reflection.txt"), filepath.Join("testdata", "manual.txt"))
	if err != nil {
		t.Fatal(err)
	}
	api, err := LoadPackage(filepath.Join("testdata", pkg))
	if err != nil {
		t.Fatal(err)
	}
	return ref, api
}

func TestParseReflection(t *testing.T) {
	ref, _ := loadFixture(t, "good")
	if ref.Version != "2.1.0" || len(ref.Constants) != 2 || len(ref.Functions) != 2 || len(ref.Classes) != 1 {
		t.Fatalf("parsed %+v", ref)
	}
	if got := ref.Functions[1].Signature(); got != "gearman_client_do_low(GearmanClient $obj, ?string $unique = null): string" {
		t.Errorf("signature %q", got)
	}
	if got := ref.ManualOnly(); len(got) != 1 || got[0] != "GearmanClient::echo" {
		t.Errorf("ManualOnly() = %q, want only GearmanClient::echo (doLow is dolow)", got)
	}
	if got := ref.functionMember("gearman_client_do_low"); got != "GearmanClient::dolow" {
		t.Errorf("functionMember = %q", got)
	}

	// A count that does not match what was parsed means a line was missed.
	text, err := os.ReadFile(filepath.Join("testdata", "reflection.txt"))
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(text), "Constants [2]", "Constants [3]", 1)
	if _, err := ParseReflection(broken); err == nil || !strings.Contains(err.Error(), "announces 3 constants") {
		t.Errorf("miscounted reflection: err = %v", err)
	}
}

func TestParseMarker(t *testing.T) {
	m := ParseMarker("Do runs it (PHP\ndoNormal). Unlike PHP's do(), fine (PHP's words) (Go\nonly)")
	if len(m.PHP) != 1 || m.PHP[0] != "doNormal" || m.GoOnly != 1 {
		t.Errorf("ParseMarker = %+v", m)
	}
	if m := ParseMarker("(PHP new GearmanClient) (PHP GearmanTask::__construct)"); len(m.PHP) != 2 ||
		m.PHP[0] != "new GearmanClient" || m.PHP[1] != "GearmanTask::__construct" {
		t.Errorf("ParseMarker = %+v", m)
	}
}

func TestCheckAndRender(t *testing.T) {
	ref, api := loadFixture(t, "good")
	if u := api.Undocumented(); len(u) != 0 {
		t.Errorf("Undocumented() = %q", u)
	}
	m, problems := Check(ref, api)
	if len(problems) != 0 {
		t.Fatalf("problems: %q", problems)
	}
	out, err := m.Render(Sources{Reflection: "r.txt", Manual: "m.txt"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| `__construct()` | `NewClient() *Client` |  |",
		"| `dolow(?string $unique = null): string` | `DoLow(unique string) (string, error)` | Unlike PHP, a failed job is an error. |",
		"| `__destruct()` | none | Unlike PHP, a Client has no destructor (PHP GearmanClient::\\_\\_destruct): the garbage collector frees it. |",
		"| `GearmanClient::echo` | `Client.Echo() error` | Deprecated: use Ping (PHP echo). |",
		"| `gearman_version(): string` | `Version() string` |",
		"| `gearman_client_do_low(GearmanClient $obj, ?string $unique = null): string` | `Client.DoLow` |",
		"| `GEARMAN_DEFAULT_TCP_HOST` | `DefaultTCPHost` | `untyped string` | `\"localhost\"` |",
		"| `Client.Run() error` | Run serves forever (Go only). |",
		"Constants PHP does not export: `Extra`.",
		"## Differences from PHP\n\nErrors are values.",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(string(out), "String()") {
		t.Error("String, an interface method, is listed")
	}
}

func TestCheckProblems(t *testing.T) {
	ref, api := loadFixture(t, "bad")
	if u := api.Undocumented(); len(u) != 1 || !strings.HasSuffix(u[0], "func Undocumented") {
		t.Errorf("Undocumented() = %q", u)
	}
	_, problems := Check(ref, api)
	all := strings.Join(problems, "\n")
	for _, want := range []string{
		"Other: (PHP GearmanClient): Client already stands for GearmanClient",
		"NewClient: doc comment has 0 counterpart markers",
		"Undocumented: doc comment has 0 counterpart markers",
		"Client.DoLow: doc comment has 2 counterpart markers",
		"Client.Ping: (PHP pnig): GearmanClient has no method pnig",
		"Client.Echo2: PHP GearmanClient::echo is already the counterpart of Client.Echo",
		"PHP GearmanClient::__construct has no Go counterpart",
		"PHP GearmanClient::__destruct has no Go counterpart",
		"PHP GearmanClient::dolow has no Go counterpart",
		"PHP function gearman_version has no Go counterpart",
		"PHP function gearman_client_do_low has no Go counterpart",
		"PHP constant GEARMAN_DEFAULT_TCP_HOST has no Go counterpart",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q", want)
		}
	}
	if len(problems) != 12 {
		t.Errorf("%d problems, want 12:\n%s", len(problems), all)
	}
}
