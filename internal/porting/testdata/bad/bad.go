// Package bad breaks the conventions.
package bad

// Client is the client (PHP GearmanClient).
type Client struct{}

// Other claims the same class (PHP GearmanClient).
type Other struct{}

// NewClient makes a client.
func NewClient() *Client { return &Client{} }

// DoLow runs a job (PHP doLow). It is also Go only (Go only).
func (c *Client) DoLow() {}

// Ping has a typo (PHP pnig).
func (c *Client) Ping() {}

// Echo pings (PHP echo).
func (c *Client) Echo() {}

// Echo2 claims echo as well (PHP echo).
func (c *Client) Echo2() {}

// Success is GEARMAN_SUCCESS.
const Success = 0

func Undocumented() {}
