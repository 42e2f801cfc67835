package snapshot

// Mount describes a filesystem to mount, in the form of mount(8):
// Type "overlay" with lowerdir/upperdir/workdir options, or Type "bind".
type Mount struct {
	Type    string
	Source  string
	Options []string
}
