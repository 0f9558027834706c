package gearmantest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// listCommands are the admin commands whose successful reply is a list of
// lines terminated by a line holding a single ".".
var listCommands = map[string]bool{
	"status":         true,
	"prioritystatus": true,
	"workers":        true,
	"show":           true, // "show jobs", "show unique jobs"
}

// AdminCommand connects to the gearmand at addr, sends one line of the admin
// text protocol (cmd followed by CRLF, e.g. "status", "workers", "version",
// "getpid", "maxqueue fn 10") and returns the reply. timeout bounds the whole
// exchange, connecting included.
//
// A single-line reply ("OK ...", "ERR ...") is returned without its line
// ending. A list reply ("status", "workers", "show jobs", ...) is returned as
// its lines joined by "\n", without the terminating "." line and without a
// trailing newline, so an empty list gives "". An "ERR" reply is returned as
// the reply, not as an error; the error is only for network or protocol
// failures.
func AdminCommand(addr, cmd string, timeout time.Duration) (string, error) {
	cmd = strings.TrimRight(cmd, "\r\n")
	if strings.ContainsAny(cmd, "\r\n") {
		return "", errors.New("gearmantest: admin command must be a single line")
	}
	deadline := time.Now().Add(timeout)
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", fmt.Errorf("gearmantest: admin %q: %w", cmd, err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(deadline); err != nil {
		return "", fmt.Errorf("gearmantest: admin %q: %w", cmd, err)
	}
	if _, err := io.WriteString(conn, cmd+"\r\n"); err != nil {
		return "", fmt.Errorf("gearmantest: admin %q: %w", cmd, err)
	}
	br := bufio.NewReader(conn)
	first, err := readLine(br)
	if err != nil {
		return "", fmt.Errorf("gearmantest: admin %q: reading reply: %w", cmd, err)
	}
	if isStatusLine(first, isListCommand(cmd)) {
		return first, nil
	}
	var lines []string
	for line := first; line != "."; {
		lines = append(lines, line)
		if line, err = readLine(br); err != nil {
			return "", fmt.Errorf("gearmantest: admin %q: reading list reply after %d lines: %w", cmd, len(lines), err)
		}
	}
	return strings.Join(lines, "\n"), nil
}

// isListCommand reports whether cmd is known to answer with a "."-terminated
// list.
func isListCommand(cmd string) bool {
	fields := strings.Fields(cmd)
	return len(fields) > 0 && listCommands[strings.ToLower(fields[0])]
}

// isStatusLine reports whether line is a complete single-line reply. For list
// commands only an error ends the reply at once (a function may well be
// called "OK"); for other commands an "OK" line does too.
func isStatusLine(line string, listCmd bool) bool {
	if line == "ERR" || strings.HasPrefix(line, "ERR ") {
		return true
	}
	return !listCmd && (line == "OK" || strings.HasPrefix(line, "OK "))
}

// readLine reads one line and strips its "\n" or "\r\n" ending. gearmand ends
// most admin replies with "\n" but "OK"/"ERR" replies with "\r\n".
func readLine(br *bufio.Reader) (string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
