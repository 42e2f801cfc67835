//go:build linux

package integration

import (
	"archive/tar"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/berth-project/berth/internal/testutil"
)

// pathEnv is the PATH BuildKit puts in an image whose base sets none (the
// busybox test image is imported, so it has no config at all).
const pathEnv = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// defaultEnv is the Env of an image built FROM busybox that sets no ENV.
const defaultEnv = `["` + pathEnv + `"]`

// runLine is the created-by line of a shell-form RUN (its --mount and
// --network flags are not part of it).
func runLine(cmd string) string { return "RUN /bin/sh -c " + cmd + " # buildkit" }

// dfCase is one Dockerfile of the instruction table: built by each client,
// then the image's config, history and files are compared with what docker
// documents.
type dfCase struct {
	name       string
	dockerfile string
	files      map[string]string // the context (see buildContext)
	args       []string          // build flags; {secret}, {sshkey}, {url}, {sum} are replaced
	// modern: the case needs Dockerfile syntax 1.4 or later (heredocs,
	// --link, --checksum, --parents, --exclude), which the BuildKit of
	// Debian's dockerd 20.10 lacks: skipped against it.
	modern bool
	config map[string]string // configKeys -> JSON; unstated keys must be empty
	// history: nil is not checked; empty means the Dockerfile adds no line
	author  string
	history []string // the created-by lines the Dockerfile adds, oldest first
	// oldHistory replaces history against dockerd 20.10 (BuildKit v0.8),
	// where a line's format has changed since.
	oldHistory []string
	check      string // a script run with sh in the image
	want       string // its output
	then       func(t *testing.T, b builderCLI, ref string)
}

// instructionCases is the table: every Dockerfile instruction, with
// docker's semantics.
var instructionCases = []dfCase{
	{
		name:       "from-scratch",
		dockerfile: "FROM scratch\nCOPY hello.txt /hello.txt\n",
		files:      map[string]string{"hello.txt": "hello from scratch\n"},
		// BuildKit's empty image: PATH and WorkingDir "/"
		config:  map[string]string{"Env": defaultEnv, "WorkingDir": `"/"`},
		history: []string{"COPY hello.txt /hello.txt # buildkit"},
		then: func(t *testing.T, b builderCLI, ref string) {
			files := exportImage(t, b, ref)
			if got := files["hello.txt"]; got != "hello from scratch\n" {
				t.Errorf("hello.txt in the scratch image: %q", got)
			}
			if _, ok := files["bin/busybox"]; ok {
				t.Errorf("a scratch image holds bin/busybox")
			}
			if n := len(history(t, b, ref)); n != 1 {
				t.Errorf("a scratch image with one COPY has %d history lines, want 1", n)
			}
		},
	},
	{
		name: "from-stage-as",
		dockerfile: `FROM busybox AS base
RUN echo base > /base
FROM base AS child
RUN cat /base > /child
`,
		config:  map[string]string{"Env": defaultEnv},
		history: []string{"RUN /bin/sh -c echo base > /base # buildkit", "RUN /bin/sh -c cat /base > /child # buildkit"},
		check:   "cat /child",
		want:    "base",
	},
	{
		name: "from-platform",
		dockerfile: `FROM --platform=$BUILDPLATFORM busybox
ARG TARGETPLATFORM
ARG BUILDPLATFORM
RUN echo "$BUILDPLATFORM $TARGETPLATFORM" > /platforms
`,
		args:   []string{"--platform", "linux/" + runtime.GOARCH},
		config: map[string]string{"Env": defaultEnv},
		history: []string{
			"ARG TARGETPLATFORM=linux/" + runtime.GOARCH,
			"ARG BUILDPLATFORM=linux/" + runtime.GOARCH,
			`RUN |2 TARGETPLATFORM=linux/` + runtime.GOARCH + ` BUILDPLATFORM=linux/` + runtime.GOARCH + ` /bin/sh -c echo "$BUILDPLATFORM $TARGETPLATFORM" > /platforms # buildkit`,
		},
		// BuildKit v0.8 left the automatic platform args' values out
		oldHistory: []string{
			"ARG TARGETPLATFORM",
			"ARG BUILDPLATFORM",
			`RUN |2 TARGETPLATFORM=linux/` + runtime.GOARCH + ` BUILDPLATFORM=linux/` + runtime.GOARCH + ` /bin/sh -c echo "$BUILDPLATFORM $TARGETPLATFORM" > /platforms # buildkit`,
		},
		check: "cat /platforms",
		want:  "linux/" + runtime.GOARCH + " linux/" + runtime.GOARCH,
	},
	{
		name: "run-shell-and-exec-forms",
		dockerfile: `FROM busybox
ENV GREETING=hi
RUN echo "$GREETING from sh" > /shell
RUN ["/bin/sh", "-c", "echo \"$0\" > /exec", "$GREETING"]
`,
		config: map[string]string{"Env": `["` + pathEnv + `","GREETING=hi"]`},
		history: []string{
			"ENV GREETING=hi",
			`RUN /bin/sh -c echo "$GREETING from sh" > /shell # buildkit`,
			`RUN /bin/sh -c echo "$0" > /exec $GREETING # buildkit`,
		},
		// the exec form runs no shell for its own words: "$GREETING" stays as written
		check: "cat /shell /exec",
		want:  "hi from sh\n$GREETING",
	},
	{
		name: "shell",
		dockerfile: `FROM busybox
SHELL ["/bin/env", "FROM_SHELL=yes", "/bin/sh", "-c"]
RUN echo "$FROM_SHELL" > /shell
CMD echo cmd
`,
		config: map[string]string{
			"Env":   defaultEnv,
			"Shell": `["/bin/env","FROM_SHELL=yes","/bin/sh","-c"]`,
			"Cmd":   `["/bin/env","FROM_SHELL=yes","/bin/sh","-c","echo cmd"]`,
		},
		history: []string{
			"SHELL [/bin/env FROM_SHELL=yes /bin/sh -c]",
			`RUN /bin/env FROM_SHELL=yes /bin/sh -c echo "$FROM_SHELL" > /shell # buildkit`,
			`CMD ["/bin/env" "FROM_SHELL=yes" "/bin/sh" "-c" "echo cmd"]`,
		},
		check: "cat /shell",
		want:  "yes",
	},
	{
		name:   "run-heredocs",
		modern: true,
		dockerfile: `FROM busybox
ARG WHO=world
RUN <<EOF
echo one > /h1
echo two >> /h1
EOF
COPY <<EOF /h2
hello ${WHO}
EOF
COPY <<'EOF' /h3
hello ${WHO}
EOF
RUN <<-EOF sh
	echo "tab-stripped $WHO" > /h4
	EOF
`,
		config: map[string]string{"Env": defaultEnv},
		check:  "cat /h1 /h2 /h3 /h4",
		want:   "one\ntwo\nhello world\nhello ${WHO}\ntab-stripped world",
	},
	{
		name: "run-mount-cache",
		dockerfile: `FROM busybox
RUN --mount=type=cache,target=/cache echo x > /cache/f && ls /cache > /seen
`,
		config:  map[string]string{"Env": defaultEnv},
		history: []string{"RUN /bin/sh -c echo x > /cache/f && ls /cache > /seen # buildkit"},
		// the cache's content is not in the image, only its mount point
		check: "cat /seen; ls -A /cache | wc -l",
		want:  "f\n0",
	},
	{
		name: "run-mount-bind",
		dockerfile: `FROM busybox AS src
RUN echo from-stage > /made
FROM busybox
RUN --mount=type=bind,source=data.txt,target=/mnt/data.txt --mount=type=bind,from=src,source=/made,target=/mnt/made cat /mnt/data.txt /mnt/made > /copied
RUN --mount=type=bind,target=/ctx sh -c 'ls /ctx > /ctx-list; touch /ctx/new 2>/dev/null && echo writable > /ro || echo read-only > /ro'
`,
		files:   map[string]string{"data.txt": "from-context\n"},
		config:  map[string]string{"Env": defaultEnv},
		history: []string{runLine(`cat /mnt/data.txt /mnt/made > /copied`), runLine(`sh -c 'ls /ctx > /ctx-list; touch /ctx/new 2>/dev/null && echo writable > /ro || echo read-only > /ro'`)},
		check:   "cat /copied /ro /ctx-list; cat /mnt/data.txt 2>/dev/null | wc -c",
		want:    "from-context\nfrom-stage\nread-only\nDockerfile\ndata.txt\n0",
	},
	{
		name: "run-mount-tmpfs",
		dockerfile: `FROM busybox
RUN --mount=type=tmpfs,target=/scratch sh -c 'echo x > /scratch/f && awk "\$2 == \"/scratch\" { print \$3 }" /proc/mounts > /fstype'
`,
		config:  map[string]string{"Env": defaultEnv},
		history: []string{runLine(`sh -c 'echo x > /scratch/f && awk "\$2 == \"/scratch\" { print \$3 }" /proc/mounts > /fstype'`)},
		check:   "cat /fstype; ls -A /scratch | wc -l",
		want:    "tmpfs\n0",
	},
	{
		name: "run-mount-secret",
		dockerfile: `FROM busybox
RUN --mount=type=secret,id=tok,required=true sh -c 'test "$(cat /run/secrets/tok)" = s3cret && echo match > /secret-ok'
`,
		args:   []string{"--secret", "id=tok,src={secret}"},
		config: map[string]string{"Env": defaultEnv},
		// the secret is mounted for the step alone: it is in no layer
		history: []string{runLine(`sh -c 'test "$(cat /run/secrets/tok)" = s3cret && echo match > /secret-ok'`)},
		check:   "cat /secret-ok; cat /run/secrets/tok 2>/dev/null | wc -c",
		want:    "match\n0",
	},
	{
		name: "run-mount-ssh",
		dockerfile: `FROM busybox
RUN --mount=type=ssh sh -c 'echo "$SSH_AUTH_SOCK"; test -S "$SSH_AUTH_SOCK" && echo socket' > /ssh
`,
		args:    []string{"--ssh", "default={sshkey}"},
		config:  map[string]string{"Env": defaultEnv},
		history: []string{runLine(`sh -c 'echo "$SSH_AUTH_SOCK"; test -S "$SSH_AUTH_SOCK" && echo socket' > /ssh`)},
		check:   "cat /ssh",
		want:    "/run/buildkit/ssh_agent.0\nsocket",
	},
	{
		name:   "run-network-none",
		modern: true, // RUN --network is Dockerfile 1.3
		dockerfile: `FROM busybox
RUN --network=none sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " > /ifaces'
`,
		config:  map[string]string{"Env": defaultEnv},
		history: []string{runLine(`sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " > /ifaces'`)},
		check:   "cat /ifaces",
		want:    "lo",
	},
	{
		name:       "cmd-exec-form",
		dockerfile: "FROM busybox\nCMD [\"echo\", \"hello\"]\n",
		config:     map[string]string{"Env": defaultEnv, "Cmd": `["echo","hello"]`},
		history:    []string{`CMD ["echo" "hello"]`},
		then: func(t *testing.T, b builderCLI, ref string) {
			if got := b.ok(t, "run", "--rm", "--network", "none", ref); got != "hello" {
				t.Errorf("run %s: %q, want hello", ref, got)
			}
		},
	},
	{
		name:       "cmd-shell-form",
		dockerfile: "FROM busybox\nCMD echo \"$HOME\"\n",
		config:     map[string]string{"Env": defaultEnv, "Cmd": `["/bin/sh","-c","echo \"$HOME\""]`},
		history:    []string{`CMD ["/bin/sh" "-c" "echo \"$HOME\""]`},
		then: func(t *testing.T, b builderCLI, ref string) {
			if got := b.ok(t, "run", "--rm", "--network", "none", ref); got != "/root" {
				t.Errorf("run %s: %q, want /root", ref, got)
			}
		},
	},
	{
		name:       "entrypoint-and-cmd",
		dockerfile: "FROM busybox\nENTRYPOINT [\"/bin/echo\", \"ep\"]\nCMD [\"default\"]\n",
		config:     map[string]string{"Env": defaultEnv, "Entrypoint": `["/bin/echo","ep"]`, "Cmd": `["default"]`},
		history:    []string{`ENTRYPOINT ["/bin/echo" "ep"]`, `CMD ["default"]`},
		then: func(t *testing.T, b builderCLI, ref string) {
			if got := b.ok(t, "run", "--rm", "--network", "none", ref); got != "ep default" {
				t.Errorf("run %s: %q, want CMD appended to ENTRYPOINT", ref, got)
			}
			if got := b.ok(t, "run", "--rm", "--network", "none", ref, "given"); got != "ep given" {
				t.Errorf("run %s given: %q, want the arguments to replace CMD", ref, got)
			}
		},
	},
	{
		name: "entrypoint-resets-inherited-cmd",
		dockerfile: `FROM busybox AS base
CMD ["inherited"]
FROM base
ENTRYPOINT ["/bin/echo"]
`,
		config:  map[string]string{"Env": defaultEnv, "Entrypoint": `["/bin/echo"]`},
		history: []string{`CMD ["inherited"]`, `ENTRYPOINT ["/bin/echo"]`},
	},
	{
		name:       "cmd-before-entrypoint-kept",
		dockerfile: "FROM busybox\nCMD [\"kept\"]\nENTRYPOINT [\"/bin/echo\"]\n",
		config:     map[string]string{"Env": defaultEnv, "Entrypoint": `["/bin/echo"]`, "Cmd": `["kept"]`},
		then: func(t *testing.T, b builderCLI, ref string) {
			if got := b.ok(t, "run", "--rm", "--network", "none", ref); got != "kept" {
				t.Errorf("run %s: %q, want kept", ref, got)
			}
		},
	},
	{
		name:       "entrypoint-shell-form-ignores-cmd",
		dockerfile: "FROM busybox\nENTRYPOINT echo ep\nCMD [\"ignored\"]\n",
		config:     map[string]string{"Env": defaultEnv, "Entrypoint": `["/bin/sh","-c","echo ep"]`, "Cmd": `["ignored"]`},
		history:    []string{`ENTRYPOINT ["/bin/sh" "-c" "echo ep"]`, `CMD ["ignored"]`},
		then: func(t *testing.T, b builderCLI, ref string) {
			if got := b.ok(t, "run", "--rm", "--network", "none", ref); got != "ep" {
				t.Errorf("run %s: %q, want ep", ref, got)
			}
		},
	},
	{
		name: "label",
		dockerfile: `FROM busybox
LABEL a=1 "b c"="d e"
LABEL multi="line \
continued"
`,
		config:  map[string]string{"Env": defaultEnv, "Labels": `{"a":"1","b c":"d e","multi":"line continued"}`},
		history: []string{"LABEL a=1 b c=d e", "LABEL multi=line continued"},
	},
	{
		name:       "maintainer",
		dockerfile: "FROM busybox\nMAINTAINER Jane Doe <jane@example.com>\n",
		config:     map[string]string{"Env": defaultEnv},
		author:     "Jane Doe <jane@example.com>",
		history:    []string{"MAINTAINER Jane Doe <jane@example.com>"},
	},
	{
		name:       "expose",
		dockerfile: "FROM busybox\nEXPOSE 80 443/udp\nEXPOSE 8080/tcp\n",
		config:     map[string]string{"Env": defaultEnv, "ExposedPorts": `{"80/tcp":{},"443/udp":{},"8080/tcp":{}}`},
		// BuildKit lists a line's ports sorted
		history:    []string{"EXPOSE [443/udp 80/tcp]", "EXPOSE [8080/tcp]"},
		oldHistory: []string{"EXPOSE map[443/udp:{} 80/tcp:{}]", "EXPOSE map[8080/tcp:{}]"},
	},
	{
		name: "env",
		dockerfile: `FROM busybox
ENV A=1 B="two words"
ENV C ${A}-legacy
ENV PATH=/opt/bin:$PATH
RUN echo "$A|$B|$C|$PATH" > /env
`,
		config: map[string]string{"Env": `["PATH=/opt/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","A=1","B=two words","C=1-legacy"]`},
		history: []string{
			"ENV A=1 B=two words",
			"ENV C=1-legacy",
			"ENV PATH=/opt/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			`RUN /bin/sh -c echo "$A|$B|$C|$PATH" > /env # buildkit`,
		},
		check: "cat /env",
		want:  "1|two words|1-legacy|/opt/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	},
	{
		name: "arg-global-stage-and-proxy",
		dockerfile: `ARG BASE=busybox
ARG V=global
FROM ${BASE}
ARG V
ARG W=default
RUN echo "$V|$W|${UNDECLARED:-none}|$HTTP_PROXY" > /args
`,
		args: []string{"--build-arg", "W=given", "--build-arg", "HTTP_PROXY=http://127.0.0.1:3128", "--build-arg", "UNDECLARED=x"},
		// ARG values are no ENV of the image; predefined proxy args reach RUN
		// without a declaration but stay out of the history
		config: map[string]string{"Env": defaultEnv},
		history: []string{
			"ARG V=global",
			"ARG W=given",
			`RUN |2 V=global W=given /bin/sh -c echo "$V|$W|${UNDECLARED:-none}|$HTTP_PROXY" > /args # buildkit`,
		},
		oldHistory: []string{
			"ARG V",
			"ARG W=default",
			`RUN |2 V=global W=given /bin/sh -c echo "$V|$W|${UNDECLARED:-none}|$HTTP_PROXY" > /args # buildkit`,
		},
		check: "cat /args",
		want:  "global|given|none|http://127.0.0.1:3128",
	},
	{
		name: "add-local-and-tar",
		dockerfile: `FROM busybox
ADD a.txt /added/a.txt
ADD dir /added/dir/
ADD arch.tar.gz /untarred/
COPY arch.tar.gz /copied/
`,
		files:  map[string]string{"a.txt": "a\n", "dir/sub.txt": "sub\n", "arch.tar.gz": "{tgz}"},
		config: map[string]string{"Env": defaultEnv},
		history: []string{
			"ADD a.txt /added/a.txt # buildkit",
			"ADD dir /added/dir/ # buildkit",
			"ADD arch.tar.gz /untarred/ # buildkit",
			"COPY arch.tar.gz /copied/ # buildkit",
		},
		// ADD unpacks a local tar, COPY does not
		check: "cat /added/a.txt /added/dir/sub.txt /untarred/x/in-tar.txt; ls /copied",
		want:  "a\nsub\nin tar\narch.tar.gz",
	},
	{
		name:       "add-url",
		dockerfile: "FROM busybox\nADD {url}/file.txt /dl/\nADD {url}/file.txt /dl2/renamed.txt\n",
		config:     map[string]string{"Env": defaultEnv},
		// a downloaded file gets mode 600 and is never unpacked
		check: "cat /dl/file.txt; stat -c '%a %u:%g %n' /dl/file.txt /dl2/renamed.txt",
		want:  "served over http\n600 0:0 /dl/file.txt\n600 0:0 /dl2/renamed.txt",
	},
	{
		name:       "add-checksum",
		modern:     true,
		dockerfile: "FROM busybox\nADD --checksum=sha256:{sum} {url}/file.txt /dl/\n",
		config:     map[string]string{"Env": defaultEnv},
		check:      "cat /dl/file.txt",
		want:       "served over http",
	},
	{
		name:       "add-chown-chmod",
		dockerfile: "FROM busybox\nADD --chown=65534:65534 --chmod=640 a.txt /a\n",
		files:      map[string]string{"a.txt": "a\n"},
		config:     map[string]string{"Env": defaultEnv},
		history:    []string{"ADD --chown=65534:65534 --chmod=640 a.txt /a # buildkit"},
		oldHistory: []string{"ADD a.txt /a # buildkit"},
		check:      "stat -c '%a %u:%g' /a",
		want:       "640 65534:65534",
	},
	{
		name: "copy-chown-chmod",
		dockerfile: `FROM busybox
COPY --chown=nobody:nogroup a.txt /named
COPY --chown=1234 a.txt /uid-only
COPY --chmod=750 a.txt /chmod
COPY --chown=65534:65534 dir /owned/
`,
		files:  map[string]string{"a.txt": "a\n", "dir/sub.txt": "sub\n"},
		config: map[string]string{"Env": defaultEnv},
		history: []string{
			"COPY --chown=nobody:nogroup a.txt /named # buildkit",
			"COPY --chown=1234 a.txt /uid-only # buildkit",
			"COPY --chmod=750 a.txt /chmod # buildkit",
			"COPY --chown=65534:65534 dir /owned/ # buildkit",
		},
		oldHistory: []string{
			"COPY a.txt /named # buildkit",
			"COPY a.txt /uid-only # buildkit",
			"COPY a.txt /chmod # buildkit",
			"COPY dir /owned/ # buildkit",
		},
		// names resolve in the image's /etc/passwd; a lone uid is the gid too
		check: "stat -c '%n %a %u:%g' /named /uid-only /chmod /owned/sub.txt",
		want:  "/named 644 65534:65534\n/uid-only 644 1234:1234\n/chmod 750 0:0\n/owned/sub.txt 644 65534:65534",
	},
	{
		name: "copy-from",
		dockerfile: `FROM busybox AS one
RUN echo one > /one
FROM busybox
COPY --from=one /one /got-one
COPY --from=0 /one /got-zero
COPY --from=busybox /etc/group /got-group
`,
		config: map[string]string{"Env": defaultEnv},
		history: []string{
			"COPY /one /got-one # buildkit",
			"COPY /one /got-zero # buildkit",
			"COPY /etc/group /got-group # buildkit",
		},
		check: "cat /got-one /got-zero; wc -l < /got-group",
		want:  "one\none\n3",
	},
	{
		name:       "copy-link",
		modern:     true,
		dockerfile: "FROM busybox\nRUN mkdir /existing && echo kept > /existing/old\nCOPY --link a.txt /existing/\nCOPY --link dir /linked/\n",
		files:      map[string]string{"a.txt": "a\n", "dir/sub.txt": "sub\n"},
		config:     map[string]string{"Env": defaultEnv},
		// --link layers are independent, yet the merged result is the same
		check: "cat /existing/old /existing/a.txt /linked/sub.txt",
		want:  "kept\na\nsub",
	},
	{
		name:       "copy-parents",
		modern:     true,
		dockerfile: "FROM busybox\nCOPY --parents p/*/*.txt /out/\n",
		files:      map[string]string{"p/x/a.txt": "a", "p/y/b.txt": "b", "p/y/c.log": "c"},
		config:     map[string]string{"Env": defaultEnv},
		history:    []string{"COPY --parents p/*/*.txt /out/ # buildkit"},
		check:      "find /out -type f | sort",
		want:       "/out/p/x/a.txt\n/out/p/y/b.txt",
	},
	{
		name:   "copy-exclude",
		modern: true,
		// patterns match below the source, one level per *, as BuildKit's own tests
		dockerfile: "FROM busybox\nCOPY --exclude=*.log --exclude=*/*.log --exclude=x p/ /ex/\n",
		files:      map[string]string{"p/x/a.txt": "a", "p/y/b.txt": "b", "p/y/c.log": "c", "p/top.log": "t"},
		config:     map[string]string{"Env": defaultEnv},
		check:      "find /ex | sort",
		want:       "/ex\n/ex/y\n/ex/y/b.txt",
	},
	{
		name: "copy-globs-and-directories",
		dockerfile: `FROM busybox
COPY *.txt /globbed/
COPY d?r /dircontents
COPY dir/ /dirslash/
COPY a.txt /newfile
COPY a.txt /newdir/
COPY a.txt b.txt /multi/
`,
		files:  map[string]string{"a.txt": "a", "b.txt": "b", "c.md": "c", "dir/sub.txt": "sub", "dir/deeper/d.txt": "d"},
		config: map[string]string{"Env": defaultEnv},
		// a directory source copies its content, not itself; a destination
		// without a trailing / that does not exist is a file
		check: "find /globbed /dircontents /dirslash /newdir /multi | sort; test -f /newfile && echo newfile-is-a-file",
		want: strings.Join([]string{
			"/dircontents", "/dircontents/deeper", "/dircontents/deeper/d.txt", "/dircontents/sub.txt",
			"/dirslash", "/dirslash/deeper", "/dirslash/deeper/d.txt", "/dirslash/sub.txt",
			"/globbed", "/globbed/a.txt", "/globbed/b.txt",
			"/multi", "/multi/a.txt", "/multi/b.txt",
			"/newdir", "/newdir/a.txt",
			"newfile-is-a-file",
		}, "\n"),
	},
	{
		name:       "volume",
		dockerfile: "FROM busybox\nVOLUME /data\nVOLUME [\"/logs\", \"/cache\"]\n",
		config:     map[string]string{"Env": defaultEnv, "Volumes": `{"/cache":{},"/data":{},"/logs":{}}`},
		history:    []string{"VOLUME [/data]", "VOLUME [/logs /cache]"},
	},
	{
		name: "user",
		dockerfile: `FROM busybox
USER nobody
RUN id -u > /tmp/uid
USER 1000:1000
`,
		config:  map[string]string{"Env": defaultEnv, "User": `"1000:1000"`},
		history: []string{"USER nobody", "RUN /bin/sh -c id -u > /tmp/uid # buildkit", "USER 1000:1000"},
		check:   "cat /tmp/uid; id -u; id -g",
		want:    "65534\n1000\n1000",
	},
	{
		name: "workdir",
		dockerfile: `FROM busybox
ENV D=c
WORKDIR /a
WORKDIR b
RUN pwd > /pwd1
WORKDIR $D
`,
		config:  map[string]string{"Env": `["` + pathEnv + `","D=c"]`, "WorkingDir": `"/a/b/c"`},
		history: []string{"ENV D=c", "WORKDIR /a", "WORKDIR /a/b", "RUN /bin/sh -c pwd > /pwd1 # buildkit", "WORKDIR /a/b/c"},
		check:   "cat /pwd1; pwd; test -d /a/b/c && echo created",
		want:    "/a/b\n/a/b/c\ncreated",
	},
	{
		name:       "stopsignal",
		dockerfile: "FROM busybox\nSTOPSIGNAL SIGUSR1\n",
		config:     map[string]string{"Env": defaultEnv, "StopSignal": `"SIGUSR1"`},
		history:    []string{"STOPSIGNAL SIGUSR1"},
	},
	{
		name:       "healthcheck",
		dockerfile: "FROM busybox\nHEALTHCHECK --interval=5s --timeout=2s --start-period=1s --retries=4 CMD test -e /tmp\n",
		config: map[string]string{"Env": defaultEnv,
			"Healthcheck": `{"Test":["CMD-SHELL","test -e /tmp"],"Interval":5000000000,"Timeout":2000000000,"StartPeriod":1000000000,"Retries":4}`},
		history:    []string{"HEALTHCHECK {Test:[CMD-SHELL test -e /tmp] Interval:5s Timeout:2s StartPeriod:1s StartInterval:0s Retries:4}"},
		oldHistory: []string{"HEALTHCHECK &{[\"CMD-SHELL\" \"test -e /tmp\"] \"5s\" \"2s\" \"1s\" '\\x04'}"},
	},
	{
		name:       "healthcheck-none",
		dockerfile: "FROM busybox\nHEALTHCHECK NONE\n",
		config:     map[string]string{"Env": defaultEnv, "Healthcheck": `{"Test":["NONE"]}`},
	},
	{
		name: "onbuild",
		dockerfile: `FROM busybox
ONBUILD RUN echo triggered > /onbuild
ONBUILD COPY a.txt /from-child-context.txt
`,
		files:  map[string]string{"a.txt": "parent context\n"},
		config: map[string]string{"Env": defaultEnv, "OnBuild": `["RUN echo triggered > /onbuild","COPY a.txt /from-child-context.txt"]`},
		// BuildKit writes no history line for ONBUILD
		history: []string{},
		// the triggers did not run in the parent
		check: "ls /onbuild /from-child-context.txt 2>/dev/null | wc -l",
		want:  "0",
		then: func(t *testing.T, b builderCLI, parent string) {
			dir := buildContext(t, map[string]string{
				"Dockerfile": "FROM " + parent + "\nRUN cat /onbuild /from-child-context.txt > /child\n",
				"a.txt":      "child context\n",
			})
			child := b.tag(t, "onbuild-child")
			b.buildOK(t, dir, "-t", child)
			if got := runIn(t, b, child, "cat /child"); got != "triggered\nchild context" {
				t.Errorf("ONBUILD triggers in the child build: %q", got)
			}
			// triggers run once: the child does not carry them
			checkConfig(t, b, child, map[string]string{"Env": defaultEnv})
		},
	},
	{
		name: "multistage-target-skips-unneeded-stages",
		dockerfile: `FROM busybox AS a
RUN echo a > /a
FROM busybox AS unused
RUN exit 7
FROM a AS b
RUN echo b > /b
FROM b AS c
RUN exit 9
`,
		args:    []string{"--target", "b"},
		config:  map[string]string{"Env": defaultEnv},
		history: []string{"RUN /bin/sh -c echo a > /a # buildkit", "RUN /bin/sh -c echo b > /b # buildkit"},
		check:   "cat /a /b",
		want:    "a\nb",
	},
}

// TestBuildInstructions builds every Dockerfile of the instruction table
// with berth build and with the docker CLI through buildx, and compares the
// image's config, author, history and files with docker's semantics.
func TestBuildInstructions(t *testing.T) {
	t.Parallel()
	tg := buildTargetFor(t)
	fx := newBuildFixtures(t)
	eachBuilder(t, tg, func(t *testing.T, b builderCLI) {
		for _, tc := range instructionCases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				if tc.modern && tg.old() {
					t.Skipf("skipping: needs Dockerfile syntax 1.4+, which dockerd %s's BuildKit lacks", tg.dockerVersion)
				}
				runDFCase(t, b, fx, tc)
			})
		}
	})
}

// runDFCase builds one case and checks it.
func runDFCase(t *testing.T, b builderCLI, fx *buildFixtures, tc dfCase) {
	files := map[string]string{"Dockerfile": fx.subst(tc.dockerfile)}
	for k, v := range tc.files {
		files[k] = v
	}
	dir := buildContext(t, files)
	for name, content := range tc.files {
		if content == "{tgz}" {
			writeTarGz(t, filepath.Join(dir, name), map[string]string{"x/in-tar.txt": "in tar\n"})
		}
	}
	ref := b.tag(t, tc.name)
	args := []string{"-t", ref}
	for _, a := range tc.args {
		args = append(args, fx.subst(a))
	}
	b.buildOK(t, dir, args...)
	checkConfig(t, b, ref, tc.config)
	if got := b.ok(t, "image", "inspect", "-f", "{{.Author}}", ref); got != tc.author {
		t.Errorf("image Author = %q, want %q", got, tc.author)
	}
	want := tc.history
	if b.tg.old() && tc.oldHistory != nil {
		want = tc.oldHistory
	}
	if want != nil {
		checkHistory(t, b, ref, want)
		if !strings.HasPrefix(tc.dockerfile, "FROM scratch") {
			base := len(history(t, b, "busybox"))
			if got := history(t, b, ref); len(got) != base+len(want) {
				t.Errorf("history of %s has %d lines, want busybox's %d and the Dockerfile's %d:\n%s", ref, len(got), base, len(want), strings.Join(got, "\n"))
			}
		}
	}
	if tc.check != "" {
		if got := runIn(t, b, ref, tc.check); got != tc.want {
			t.Errorf("files of %s (%s):\n got %q\nwant %q", ref, tc.check, got, tc.want)
		}
	}
	if tc.then != nil {
		tc.then(t, b, ref)
	}
}

// buildFixtures are what some cases need beyond their context: a secret
// file, an ssh key, a file served over HTTP on 127.0.0.1.
type buildFixtures struct {
	secret, sshKey string
	url, sum       string
}

const servedFile = "served over http\n"

func newBuildFixtures(t *testing.T) *buildFixtures {
	t.Helper()
	dir := t.TempDir()
	fx := &buildFixtures{secret: filepath.Join(dir, "secret"), sshKey: filepath.Join(dir, "id_ed25519")}
	if err := os.WriteFile(fx.secret, []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "berth build test")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fx.sshKey, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(servedFile))
	fx.sum = hex.EncodeToString(sum[:])
	fx.url = serveFiles(t, map[string]string{"/file.txt": servedFile})
	return fx
}

// subst fills the placeholders of a Dockerfile or flag.
func (fx *buildFixtures) subst(s string) string {
	return strings.NewReplacer("{secret}", fx.secret, "{sshkey}", fx.sshKey, "{url}", fx.url, "{sum}", fx.sum).Replace(s)
}

// serveFiles serves files over HTTP on 127.0.0.1 until t ends and returns
// the base URL.
func serveFiles(t testing.TB, files map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	modified := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		content, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Last-Modified", modified.Format(http.TimeFormat))
		io.WriteString(w, content)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// writeTarGz writes a gzip-compressed tar of files to path.
func writeTarGz(t testing.TB, path string, files map[string]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for name, content := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), ModTime: time.Unix(1700000000, 0)}); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, content)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
}

// exportImage returns the regular files of a container made from ref
// (path without leading / -> content), through create and export.
func exportImage(t testing.TB, b builderCLI, ref string) map[string]string {
	t.Helper()
	name := unique("export")
	b.ok(t, "create", "--name", name, ref, "/nothing")
	defer b.run(t, "rm", "-f", name)
	cmd := b.cmd("export", name)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	tr := tar.NewReader(out)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("export %s: %v", ref, err)
		}
		if h.Typeflag == tar.TypeReg {
			data, _ := io.ReadAll(tr)
			files[strings.TrimPrefix(h.Name, "/")] = string(data)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("export %s: %v", ref, err)
	}
	return files
}

var _ = fmt.Sprintf
var _ = testutil.DockerCLI
