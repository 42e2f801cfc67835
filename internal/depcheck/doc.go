// Package depcheck holds no code: its test enforces DESIGN.md's dependency
// fences between berth's packages.
package depcheck
