package gearman

import "strings"

// validateJob checks a job's arguments before anything reaches libgearman, so
// that each mistake gets a clear InvalidArgument error. PHP truncates names at
// a NUL byte; a Go string may hold one, so it is refused instead.
func validateJob(op, function string, workload []byte, unique string) error {
	if err := validateFunctionName(op, function); err != nil {
		return err
	}
	if len(workload) == 0 {
		return newError(op, InvalidArgument, "invalid workload: empty")
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
