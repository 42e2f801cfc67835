package container

import (
	cryptorand "crypto/rand"
	"encoding/hex"
	"math/rand/v2"
	"strconv"
)

// GenerateName returns a docker-style "adjective_surname" name for which
// taken returns false. After a few collisions it appends a digit, as docker
// does, and keeps trying.
func GenerateName(taken func(string) bool) string {
	for attempt := 0; ; attempt++ {
		name := adjectives[rand.IntN(len(adjectives))] + "_" + surnames[rand.IntN(len(surnames))]
		if name == "boring_wozniak" { // Steve Wozniak is not boring (docker's rule)
			continue
		}
		if attempt >= 5 {
			name += strconv.Itoa(rand.IntN(10 * (attempt - 4)))
		}
		if taken == nil || !taken(name) {
			return name
		}
	}
}

// NewID returns a new container id: 64 lowercase hex characters from
// crypto/rand whose 12-character short form is not all digits (a short id
// that parses as a number would be taken for one by tools).
func NewID() string {
	b := make([]byte, 32)
	for {
		_, _ = cryptorand.Read(b) // never fails since Go 1.24
		id := hex.EncodeToString(b)
		if _, err := strconv.ParseUint(id[:12], 10, 64); err == nil {
			continue
		}
		return id
	}
}
