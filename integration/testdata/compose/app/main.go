// Command hits is the compose tests' application, the tutorial's stack in
// one static binary (the tests build it, and images FROM scratch around it):
//
//	hits store [ADDR]      a key-value store: "INCR key" and "GET key" lines
//	                       over TCP (default :6379), kept in /data
//	hits web [ADDR]        an HTTP app (default :8000) that counts its hits in
//	                       the store at $STORE (default store:6379)
//	hits ping ADDR         exits 0 when ADDR accepts a connection (healthcheck)
//	hits fetch URL N       GETs URL N times, each with a fresh DNS lookup,
//	                       printing each answer's first line
//	hits wait-file PATH S  exits 0 once PATH exists, 1 after S seconds
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: hits store|web|ping|fetch|wait-file ...")
	}
	arg := func(i int, def string) string {
		if len(os.Args) > i {
			return os.Args[i]
		}
		return def
	}
	switch os.Args[1] {
	case "store":
		store(arg(2, ":6379"), "/data")
	case "web":
		web(arg(2, ":8000"), env("STORE", "store:6379"))
	case "ping":
		c, err := net.DialTimeout("tcp", arg(2, ""), 2*time.Second)
		if err != nil {
			fail(err.Error())
		}
		c.Close()
	case "fetch":
		n, _ := strconv.Atoi(arg(3, "1"))
		fetch(arg(2, ""), n)
	case "wait-file":
		s, _ := strconv.Atoi(arg(3, "10"))
		for deadline := time.Now().Add(time.Duration(s) * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if _, err := os.Stat(arg(2, "")); err == nil {
				return
			}
		}
		fail("timed out")
	default:
		fail("unknown mode " + os.Args[1])
	}
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "hits:", msg)
	os.Exit(1)
}

// store serves INCR and GET, one file per key under dir.
func store(addr, dir string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fail(err.Error())
	}
	fmt.Println("store: listening on", addr)
	var mu sync.Mutex
	for {
		c, err := ln.Accept()
		if err != nil {
			fail(err.Error())
		}
		go func() {
			defer c.Close()
			sc := bufio.NewScanner(c)
			for sc.Scan() {
				op, key, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
				path := filepath.Join(dir, filepath.Base(key))
				mu.Lock()
				dt, _ := os.ReadFile(path)
				n, _ := strconv.Atoi(strings.TrimSpace(string(dt)))
				if op == "INCR" {
					n++
					tmp := path + ".tmp"
					if err := os.WriteFile(tmp, []byte(strconv.Itoa(n)), 0o644); err == nil {
						err = os.Rename(tmp, path)
					}
					if err != nil {
						mu.Unlock()
						fmt.Fprintf(c, "ERR %v\n", err)
						continue
					}
				}
				mu.Unlock()
				fmt.Fprintf(c, "%d\n", n)
			}
		}()
	}
}

// web answers every request with its host name, $GREETING and the count.
func web(addr, storeAddr string) {
	host, _ := os.Hostname()
	fmt.Println("web: listening on", addr)
	err := http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := net.DialTimeout("tcp", storeAddr, 2*time.Second)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer c.Close()
		fmt.Fprintln(c, "INCR hits")
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		fmt.Fprintf(w, "%s from %s: seen %s times\n", env("GREETING", "Hello"), host, strings.TrimSpace(line))
	}))
	fail(err.Error())
}

// fetch GETs rawURL n times; each dial resolves the host again, so that
// the embedded DNS's order decides which replica answers.
func fetch(rawURL string, n int) {
	u, err := url.Parse(rawURL)
	if err != nil {
		fail(err.Error())
	}
	host, port, _ := net.SplitHostPort(u.Host)
	for range n {
		addrs, err := net.LookupHost(host)
		if err != nil || len(addrs) == 0 {
			fail(fmt.Sprintf("lookup %s: %v", host, err))
		}
		tr := &http.Transport{DisableKeepAlives: true, Dial: func(network, _ string) (net.Conn, error) {
			return net.Dial(network, net.JoinHostPort(addrs[0], port))
		}}
		resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get(rawURL)
		if err != nil {
			fail(err.Error())
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		first, _, _ := strings.Cut(string(body), "\n")
		fmt.Println(first)
	}
}
