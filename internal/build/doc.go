// Package build embeds BuildKit in berthd: the controller and its runc
// worker on berth's stores, a network provider over internal/network, the
// exporter into berth's image store, the /grpc and /session handlers and the
// classic POST /build adapter.
package build
