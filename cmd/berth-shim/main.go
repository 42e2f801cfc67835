// Command berth-shim supervises one container for berthd (DESIGN.md
// section 1). It is a binary of its own, linking only what it needs, because
// one runs per container.
package main

import "github.com/berth-project/berth/internal/shim"

func main() { shim.Main() }
