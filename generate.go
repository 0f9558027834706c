package gearman

// constants.go is generated from the installed libgearman headers.
//go:generate go run ./internal/genconst -o constants.go

// docs/porting-from-php.md is generated from PHP's reflection and the doc
// comments of this package; it needs constants.go, so it comes second.
//go:generate go run ./internal/genporting
