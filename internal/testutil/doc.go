// Package testutil holds what berth's end-to-end tests share: the root
// check, the busybox test image built from Debian's busybox-static, and a
// private berthd (temporary data root, exec root and socket) driven through
// the berth CLI, the docker CLI or the moby API client.
package testutil
