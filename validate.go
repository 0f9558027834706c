package gearman

import (
	"strconv"
	"strings"
)

// validateJob checks a job's arguments before anything reaches libgearman, so
// that each mistake gets a clear InvalidArgument error. PHP truncates names at
// a NUL byte; a Go string may hold one, so it is refused instead. A workload
// may be empty: libgearman sends it as zero bytes when given NULL.
func validateJob(op, function, unique string) error {
	if err := validateFunctionName(op, function); err != nil {
		return err
	}
	// GEARMAN_UNIQUE_SIZE (64) counts the terminating NUL: a 64-byte key
	// reaches the worker cut to 63 bytes, so it is refused here.
	if len(unique) >= UniqueSize {
		return newError(op, InvalidArgument, "unique key longer than 63 bytes")
	}
	if hasNUL(unique) {
		return newError(op, InvalidArgument, "unique key holds a NUL byte")
	}
	return nil
}

func validateFunctionName(op, function string) error {
	switch {
	case function == "":
		return newError(op, InvalidArgument, "invalid function: empty name")
	case len(function) > FunctionMaxSize:
		return newError(op, InvalidArgument, "function name longer than 512 bytes")
	case hasNUL(function):
		return newError(op, InvalidArgument, "function name holds a NUL byte")
	}
	return nil
}

func hasNUL(s string) bool { return strings.IndexByte(s, 0) >= 0 }

// validate checks what libgearman would otherwise take silently: a port out
// of range (libgearman keeps its low 16 bits) or a NUL in a host (it cuts the
// name there).
func (s serverSpec) validate(op string) error {
	hosts := []serverSpec{s}
	if s.multi {
		hosts = hosts[:0]
		for _, item := range strings.Split(s.list, ",") {
			host, port, found := strings.Cut(strings.TrimSpace(item), ":")
			p := 0
			if found {
				// Not a number: libgearman's own answer is Getaddrinfo, as
				// in PHP.
				p, _ = strconv.Atoi(port)
			}
			hosts = append(hosts, serverSpec{host: host, port: p})
		}
	}
	for _, h := range hosts {
		switch {
		case h.port < 0 || h.port > 65535:
			return newError(op, InvalidArgument, "port out of range: "+strconv.Itoa(h.port))
		case hasNUL(h.host):
			return newError(op, InvalidArgument, "host name holds a NUL byte")
		}
	}
	return nil
}
