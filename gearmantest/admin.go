package gearmantest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/libgearman-go/gearman/admin"
)

// AdminCommand connects to the gearmand at addr, sends one line of the admin
// text protocol (e.g. "status", "workers", "version", "getpid",
// "maxqueue fn 10") and returns the reply. timeout bounds the whole
// exchange, connecting included.
//
// It is a thin wrapper over package [admin] ([admin.Client.Command] on a
// connection of its own), kept so that tests written against it keep
// compiling; new code can use package admin directly, which also parses the
// replies ([admin.Client.Status], [admin.Client.Workers], ...).
//
// A single-line reply ("OK ...", "ERR ...") is returned without its line
// ending. A list reply ("status", "workers", "show jobs", ...) is returned as
// its lines joined by "\n", without the terminating "." line and without a
// trailing newline, so an empty list gives "". Unlike package admin, an "ERR"
// reply is returned as the reply, not as an error; the error is only for
// network or protocol failures and for a cmd of more than one line.
func AdminCommand(addr, cmd string, timeout time.Duration) (string, error) {
	cmd = strings.TrimRight(cmd, "\r\n")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	adm, err := admin.Dial(ctx, addr)
	if err != nil {
		return "", fmt.Errorf("gearmantest: admin %q: %w", cmd, err)
	}
	defer adm.Close()
	reply, err := adm.Command(ctx, cmd)
	var se *admin.ServerError
	if errors.As(err, &se) {
		return errLine(se), nil
	}
	if err != nil {
		return "", fmt.Errorf("gearmantest: %w", err)
	}
	return reply, nil
}

// errLine rebuilds the "ERR CODE message" line that package admin parsed
// into se, which is what AdminCommand has always returned.
func errLine(se *admin.ServerError) string {
	line := "ERR"
	if se.Code != "" {
		line += " " + se.Code
	}
	if se.Message != "" {
		line += " " + se.Message
	}
	return line
}
