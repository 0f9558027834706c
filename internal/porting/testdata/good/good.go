// Package good follows the conventions.
//
// # Naming
//
// Names follow PHP's.
//
// # Differences from PHP
//
// Errors are values.
package good

// Client is the client (PHP GearmanClient).
//
// Unlike PHP, a Client has no destructor (PHP GearmanClient::__destruct):
// the garbage collector frees it.
type Client struct{}

// NewClient makes a client (PHP new GearmanClient).
func NewClient() *Client { return &Client{} }

// Version returns the version (PHP
// gearman_version).
func Version() string { return "" }

// DoLow runs a job at low priority (PHP doLow).
//
// Unlike PHP, a failed job is an error.
func (c *Client) DoLow(unique string) (string, error) { return "", nil }

// Echo pings.
//
// Deprecated: use Ping (PHP echo).
func (c *Client) Echo() error { return nil }

// Run serves forever (Go only).
func (c *Client) Run() error { return nil }

// String needs no marker: it satisfies fmt.Stringer.
func (c *Client) String() string { return "" }

// Success is GEARMAN_SUCCESS (gearman_return_t).
const Success = 0

// DefaultTCPHost is GEARMAN_DEFAULT_TCP_HOST (#define).
const DefaultTCPHost = "localhost"

// Extra is GEARMAN_EXTRA, which PHP lacks.
const Extra = 1 << 3
