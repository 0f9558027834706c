package gearman_test

import (
	"fmt"
	"strings"
)

func splitLines(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") }

// sscanStatus parses one line of the admin "status" reply:
// function \t total \t running \t workers.
func sscanStatus(line string, name *string, total, running, workers *int) (int, error) {
	return fmt.Sscanf(strings.ReplaceAll(line, "\t", " "), "%s %d %d %d", name, total, running, workers)
}

// functionStatus finds function in an admin "status" reply.
func functionStatus(status, function string) (total, running, workers int, ok bool) {
	for _, line := range splitLines(status) {
		var name string
		if n, _ := sscanStatus(line, &name, &total, &running, &workers); n == 4 && name == function {
			return total, running, workers, true
		}
	}
	return 0, 0, 0, false
}
