package gearman

// constants.go is generated from the installed libgearman headers.
//go:generate go run ./internal/genconst -o constants.go
