// Copyright 2019, 2020 OCI Contributors
// Copyright 2017 Docker, Inc.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     https://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

package digest

// This file is berth's addition to the fork (see README.berth.md): the
// package's regular expressions are compiled on first use instead of at
// package init, which cost every program linking the package several
// milliseconds and some 400 KB of allocations at start.

import (
	"io"
	"regexp"
	"sync"
)

// lazyRegexp is a regular expression compiled, with regexp.MustCompile, the
// first time one of its methods is called. It has the methods of
// *regexp.Regexp that do not change the expression (not Longest or
// UnmarshalText); Regexp returns the compiled *regexp.Regexp itself.
type lazyRegexp struct {
	re func() *regexp.Regexp
}

// newLazyRegexp returns a lazyRegexp for the expression pattern returns.
func newLazyRegexp(pattern func() string) *lazyRegexp {
	return &lazyRegexp{re: sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern()) })}
}

// Regexp returns the compiled expression.
func (l *lazyRegexp) Regexp() *regexp.Regexp { return l.re() }

// Copy calls (*regexp.Regexp).Copy on the compiled expression.
func (l *lazyRegexp) Copy() *regexp.Regexp { return l.re().Copy() }

// Expand calls (*regexp.Regexp).Expand on the compiled expression.
func (l *lazyRegexp) Expand(dst []byte, template []byte, src []byte, match []int) []byte {
	return l.re().Expand(dst, template, src, match)
}

// ExpandString calls (*regexp.Regexp).ExpandString on the compiled expression.
func (l *lazyRegexp) ExpandString(dst []byte, template string, src string, match []int) []byte {
	return l.re().ExpandString(dst, template, src, match)
}

// Find calls (*regexp.Regexp).Find on the compiled expression.
func (l *lazyRegexp) Find(b []byte) []byte { return l.re().Find(b) }

// FindAll calls (*regexp.Regexp).FindAll on the compiled expression.
func (l *lazyRegexp) FindAll(b []byte, n int) [][]byte { return l.re().FindAll(b, n) }

// FindAllIndex calls (*regexp.Regexp).FindAllIndex on the compiled expression.
func (l *lazyRegexp) FindAllIndex(b []byte, n int) [][]int { return l.re().FindAllIndex(b, n) }

// FindAllString calls (*regexp.Regexp).FindAllString on the compiled expression.
func (l *lazyRegexp) FindAllString(s string, n int) []string { return l.re().FindAllString(s, n) }

// FindAllStringIndex calls (*regexp.Regexp).FindAllStringIndex on the compiled expression.
func (l *lazyRegexp) FindAllStringIndex(s string, n int) [][]int {
	return l.re().FindAllStringIndex(s, n)
}

// FindAllStringSubmatch calls (*regexp.Regexp).FindAllStringSubmatch on the compiled expression.
func (l *lazyRegexp) FindAllStringSubmatch(s string, n int) [][]string {
	return l.re().FindAllStringSubmatch(s, n)
}

// FindAllStringSubmatchIndex calls (*regexp.Regexp).FindAllStringSubmatchIndex on the compiled expression.
func (l *lazyRegexp) FindAllStringSubmatchIndex(s string, n int) [][]int {
	return l.re().FindAllStringSubmatchIndex(s, n)
}

// FindAllSubmatch calls (*regexp.Regexp).FindAllSubmatch on the compiled expression.
func (l *lazyRegexp) FindAllSubmatch(b []byte, n int) [][][]byte { return l.re().FindAllSubmatch(b, n) }

// FindAllSubmatchIndex calls (*regexp.Regexp).FindAllSubmatchIndex on the compiled expression.
func (l *lazyRegexp) FindAllSubmatchIndex(b []byte, n int) [][]int {
	return l.re().FindAllSubmatchIndex(b, n)
}

// FindIndex calls (*regexp.Regexp).FindIndex on the compiled expression.
func (l *lazyRegexp) FindIndex(b []byte) (loc []int) { return l.re().FindIndex(b) }

// FindReaderIndex calls (*regexp.Regexp).FindReaderIndex on the compiled expression.
func (l *lazyRegexp) FindReaderIndex(r io.RuneReader) (loc []int) { return l.re().FindReaderIndex(r) }

// FindReaderSubmatchIndex calls (*regexp.Regexp).FindReaderSubmatchIndex on the compiled expression.
func (l *lazyRegexp) FindReaderSubmatchIndex(r io.RuneReader) []int {
	return l.re().FindReaderSubmatchIndex(r)
}

// FindString calls (*regexp.Regexp).FindString on the compiled expression.
func (l *lazyRegexp) FindString(s string) string { return l.re().FindString(s) }

// FindStringIndex calls (*regexp.Regexp).FindStringIndex on the compiled expression.
func (l *lazyRegexp) FindStringIndex(s string) (loc []int) { return l.re().FindStringIndex(s) }

// FindStringSubmatch calls (*regexp.Regexp).FindStringSubmatch on the compiled expression.
func (l *lazyRegexp) FindStringSubmatch(s string) []string { return l.re().FindStringSubmatch(s) }

// FindStringSubmatchIndex calls (*regexp.Regexp).FindStringSubmatchIndex on the compiled expression.
func (l *lazyRegexp) FindStringSubmatchIndex(s string) []int {
	return l.re().FindStringSubmatchIndex(s)
}

// FindSubmatch calls (*regexp.Regexp).FindSubmatch on the compiled expression.
func (l *lazyRegexp) FindSubmatch(b []byte) [][]byte { return l.re().FindSubmatch(b) }

// FindSubmatchIndex calls (*regexp.Regexp).FindSubmatchIndex on the compiled expression.
func (l *lazyRegexp) FindSubmatchIndex(b []byte) []int { return l.re().FindSubmatchIndex(b) }

// LiteralPrefix calls (*regexp.Regexp).LiteralPrefix on the compiled expression.
func (l *lazyRegexp) LiteralPrefix() (prefix string, complete bool) { return l.re().LiteralPrefix() }

// MarshalText calls (*regexp.Regexp).MarshalText on the compiled expression.
func (l *lazyRegexp) MarshalText() ([]byte, error) { return l.re().MarshalText() }

// Match calls (*regexp.Regexp).Match on the compiled expression.
func (l *lazyRegexp) Match(b []byte) bool { return l.re().Match(b) }

// MatchReader calls (*regexp.Regexp).MatchReader on the compiled expression.
func (l *lazyRegexp) MatchReader(r io.RuneReader) bool { return l.re().MatchReader(r) }

// MatchString calls (*regexp.Regexp).MatchString on the compiled expression.
func (l *lazyRegexp) MatchString(s string) bool { return l.re().MatchString(s) }

// NumSubexp calls (*regexp.Regexp).NumSubexp on the compiled expression.
func (l *lazyRegexp) NumSubexp() int { return l.re().NumSubexp() }

// ReplaceAll calls (*regexp.Regexp).ReplaceAll on the compiled expression.
func (l *lazyRegexp) ReplaceAll(src, repl []byte) []byte { return l.re().ReplaceAll(src, repl) }

// ReplaceAllFunc calls (*regexp.Regexp).ReplaceAllFunc on the compiled expression.
func (l *lazyRegexp) ReplaceAllFunc(src []byte, repl func([]byte) []byte) []byte {
	return l.re().ReplaceAllFunc(src, repl)
}

// ReplaceAllLiteral calls (*regexp.Regexp).ReplaceAllLiteral on the compiled expression.
func (l *lazyRegexp) ReplaceAllLiteral(src, repl []byte) []byte {
	return l.re().ReplaceAllLiteral(src, repl)
}

// ReplaceAllLiteralString calls (*regexp.Regexp).ReplaceAllLiteralString on the compiled expression.
func (l *lazyRegexp) ReplaceAllLiteralString(src, repl string) string {
	return l.re().ReplaceAllLiteralString(src, repl)
}

// ReplaceAllString calls (*regexp.Regexp).ReplaceAllString on the compiled expression.
func (l *lazyRegexp) ReplaceAllString(src, repl string) string {
	return l.re().ReplaceAllString(src, repl)
}

// ReplaceAllStringFunc calls (*regexp.Regexp).ReplaceAllStringFunc on the compiled expression.
func (l *lazyRegexp) ReplaceAllStringFunc(src string, repl func(string) string) string {
	return l.re().ReplaceAllStringFunc(src, repl)
}

// Split calls (*regexp.Regexp).Split on the compiled expression.
func (l *lazyRegexp) Split(s string, n int) []string { return l.re().Split(s, n) }

// String calls (*regexp.Regexp).String on the compiled expression.
func (l *lazyRegexp) String() string { return l.re().String() }

// SubexpIndex calls (*regexp.Regexp).SubexpIndex on the compiled expression.
func (l *lazyRegexp) SubexpIndex(name string) int { return l.re().SubexpIndex(name) }

// SubexpNames calls (*regexp.Regexp).SubexpNames on the compiled expression.
func (l *lazyRegexp) SubexpNames() []string { return l.re().SubexpNames() }
