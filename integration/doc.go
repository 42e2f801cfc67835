// Package integration holds berth's end-to-end tests: each starts a private
// berthd (see internal/testutil) and drives it as a user would, with the berth
// CLI, the official docker CLI and raw Engine API requests. They need root and
// Linux; `make test` runs them.
package integration
