package buildcmd

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/frontend/dockerfile/dfgitutil"
	"github.com/moby/go-archive"
	"github.com/tonistiigi/fsutil"
)

// The frontend attributes and exporter keys the build uses.
const (
	frontendDockerfile = "dockerfile.v0"
	exporterMoby       = "moby" // dockerd's and berthd's: into the daemon's image store
	keyImageName       = "name"
	keyPush            = "push"
	hostGatewayName    = "host-gateway"
	// exporter response keys (exptypes.ExporterImageDigestKey, ...)
	respImageDigest       = "containerimage.digest"
	respImageConfigDigest = "containerimage.config.digest"
)

// plan is a build ready to solve: the solve options, what to do after it,
// and what to clean up.
type plan struct {
	solve client.SolveOpt
	// pushNames are the tags to push through the API after the build (the
	// moby exporter stores; pushing is the daemon's push).
	pushNames []string
	// needHostGateway: an --add-host asked for host-gateway, which the
	// worker's label resolves.
	needHostGateway bool
	cleanup         []string
}

// pushByExporter has the moby exporter push the tags itself, instead of
// the daemon's push API after the build.
func (p *plan) pushByExporter() {
	for i := range p.solve.Exports {
		e := &p.solve.Exports[i]
		if e.Type != exporterMoby {
			continue
		}
		for _, n := range strings.Split(e.Attrs[keyImageName], ",") {
			if slices.Contains(p.pushNames, n) {
				e.Attrs[keyPush] = "true"
				break
			}
		}
	}
	p.pushNames = nil
}

// Close removes the plan's temporary directories.
func (p *plan) Close() {
	for _, d := range p.cleanup {
		_ = os.RemoveAll(d)
	}
}

// env looks a variable up (os.LookupEnv, replaced in tests).
type env func(string) (string, bool)

// hostPlatform is the only platform berth builds for.
func hostPlatform() string { return platforms.Format(platforms.DefaultSpec()) }

// toPlan turns the flags into solve options. stdin is read when the context
// or the Dockerfile is "-"; stdoutTTY tells whether a tar may go to stdout.
func (o *options) toPlan(stdin io.Reader, lookup env, stdoutTTY bool) (_ *plan, retErr error) {
	p := &plan{solve: client.SolveOpt{
		Frontend:      frontendDockerfile,
		FrontendAttrs: map[string]string{},
		LocalMounts:   map[string]fsutil.FS{},
	}}
	defer func() {
		if retErr != nil {
			p.Close()
		}
	}()
	attrs := p.solve.FrontendAttrs

	buildArgs, err := listToMap(o.buildArgs, lookup)
	if err != nil {
		return nil, err
	}
	if _, ok := buildArgs["SOURCE_DATE_EPOCH"]; !ok {
		if v, ok := lookup("SOURCE_DATE_EPOCH"); ok && v != "" {
			buildArgs["SOURCE_DATE_EPOCH"] = v
		}
	}
	for k, v := range buildArgs {
		attrs["build-arg:"+k] = v
	}
	labels, err := listToMap(o.labels, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range labels {
		attrs["label:"+k] = v
	}
	if v, ok := buildArgs["BUILDKIT_SYNTAX"]; ok {
		src, _, _ := strings.Cut(strings.TrimSpace(v), " ")
		if src == "" {
			return nil, invalid("empty BUILDKIT_SYNTAX build-arg is invalid")
		}
		p.solve.Frontend = "gateway.v0"
		attrs["source"] = src
		attrs["cmdline"] = v
	}
	if o.target != "" {
		attrs["target"] = o.target
	}
	if len(o.noCacheFilter) > 0 {
		attrs["no-cache"] = strings.Join(o.noCacheFilter, ",")
	}
	if o.noCache {
		attrs["no-cache"] = ""
	}
	if o.pull {
		attrs["image-resolve-mode"] = "pull"
	} else {
		attrs["image-resolve-mode"] = "local" // the docker driver prefers the daemon's images
	}
	if o.cgroupParent != "" {
		attrs["cgroup-parent"] = o.cgroupParent
	}
	if o.shmSize != "" {
		n, err := parseBytes(o.shmSize)
		if err != nil {
			return nil, invalid("invalid --shm-size: %v", err)
		}
		attrs["shm-size"] = strconv.FormatInt(n, 10)
	}
	if len(o.ulimits) > 0 {
		attrs["ulimit"] = strings.Join(o.ulimits, ",")
	}

	if err := o.setAttestations(attrs); err != nil {
		return nil, err
	}
	if err := o.setPlatform(attrs); err != nil {
		return nil, err
	}
	p.solve.AllowedEntitlements = slices.Clone(o.allow)
	switch o.network {
	case "host":
		attrs["force-network-mode"] = "host"
		p.solve.AllowedEntitlements = append(p.solve.AllowedEntitlements, "network.host")
	case "none":
		attrs["force-network-mode"] = "none"
	case "", "default":
	default:
		return nil, invalid("network mode %q not supported by buildkit", o.network)
	}
	hosts, gateway, err := extraHosts(o.addHosts)
	if err != nil {
		return nil, err
	}
	if hosts != "" {
		attrs["add-hosts"] = hosts
	}
	p.needHostGateway = gateway

	if p.solve.CacheImports, err = parseCacheEntries(o.cacheFrom); err != nil {
		return nil, err
	}
	if p.solve.CacheExports, err = parseCacheEntries(o.cacheTo); err != nil {
		return nil, err
	}
	if v, ok := buildArgs["BUILDKIT_INLINE_CACHE"]; ok {
		if b, _ := strconv.ParseBool(v); b {
			p.solve.CacheExports = append(p.solve.CacheExports, client.CacheOptionsEntry{Type: "inline", Attrs: map[string]string{}})
		}
	}

	if err := o.setExports(p, stdoutTTY); err != nil {
		return nil, err
	}
	if err := o.setInputs(p, stdin); err != nil {
		return nil, err
	}
	for _, bc := range o.buildContexts {
		if err := setNamedContext(p, bc); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// setPlatform accepts the host's platform only: berthd's worker runs
// native binaries, with no emulation.
func (o *options) setPlatform(attrs map[string]string) error {
	var list []string
	for _, v := range o.platforms {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				list = append(list, s)
			}
		}
	}
	if len(list) == 0 {
		return nil
	}
	host := platforms.DefaultSpec()
	matcher := platforms.OnlyStrict(host)
	for _, s := range list {
		pl, err := platforms.Parse(s)
		if err != nil {
			return invalid("invalid platform %q: %v", s, err)
		}
		if !matcher.Match(pl) {
			return notImplemented("platform %q is not supported: berth builds for the host's platform only (%s)", s, hostPlatform())
		}
	}
	if len(list) > 1 {
		return notImplemented("multiple platforms are not supported: berth builds for the host's platform only (%s)", hostPlatform())
	}
	pl, _ := platforms.Parse(list[0])
	attrs["platform"] = platforms.Format(platforms.Normalize(pl))
	return nil
}

// setExports turns --output, --push, --load and -t into exporters. The
// default, as with buildx's docker driver, stores the image in the daemon.
func (o *options) setExports(p *plan, stdoutTTY bool) error {
	var tags []string
	for _, t := range o.tags {
		named, err := reference.ParseNormalizedNamed(t)
		if err != nil {
			return invalid("invalid tag %q: %v", t, err)
		}
		tags = append(tags, reference.TagNameOnly(named).String())
	}
	var exports []client.ExportEntry
	stdoutUsed := false
	for _, spec := range o.outputs {
		e, err := parseOutput(spec)
		if err != nil {
			return err
		}
		if o.iidFile != "" && (e.Type == client.ExporterLocal || e.Type == client.ExporterTar) {
			return invalid("local and tar exporters are incompatible with image ID file")
		}
		dest := e.Attrs["dest"]
		delete(e.Attrs, "dest")
		supportFile, supportDir := false, false
		switch e.Type {
		case client.ExporterLocal:
			supportDir = true
		case client.ExporterTar:
			supportFile = true
		case client.ExporterOCI, client.ExporterDocker:
			tar, err := strconv.ParseBool(e.Attrs["tar"])
			if err != nil {
				tar = true
			}
			supportFile, supportDir = tar, !tar
		case "registry":
			e.Type = client.ExporterImage
			e.Attrs[keyPush] = "true"
		case client.ExporterImage, "cacheonly":
		default:
			return invalid("unknown output type %q (use image, registry, local, tar, oci or docker)", e.Type)
		}
		if supportDir {
			if dest == "" {
				return invalid("dest is required for %s exporter", e.Type)
			}
			if dest == "-" {
				return invalid("dest cannot be stdout for %s exporter", e.Type)
			}
			if fi, err := os.Stat(dest); err == nil && !fi.IsDir() {
				return invalid("destination directory %s is a file", dest)
			}
			e.OutputDir = dest
		}
		if supportFile {
			if dest == "" && e.Type != client.ExporterDocker {
				dest = "-"
			}
			switch dest {
			case "":
				// docker without dest: loaded into the daemon
			case "-":
				if stdoutUsed {
					return invalid("multiple outputs configured to write to stdout")
				}
				if stdoutTTY {
					return invalid("dest file is required for %s exporter. refusing to write to console", e.Type)
				}
				stdoutUsed = true
				e.Output = stdoutOutput
			default:
				if fi, err := os.Stat(dest); err == nil && fi.IsDir() {
					return invalid("destination file %s is a directory", dest)
				}
				e.Output = fileOutput(dest)
			}
		}
		if e.Type == client.ExporterDocker && e.Output == nil {
			e.Type = client.ExporterImage // loaded: the daemon's store
		}
		exports = append(exports, e)
	}
	if o.push {
		found := false
		for i := range exports {
			if exports[i].Type == client.ExporterImage {
				exports[i].Attrs[keyPush] = "true"
				found = true
			}
		}
		if !found {
			exports = append(exports, client.ExportEntry{Type: client.ExporterImage, Attrs: map[string]string{keyPush: "true"}})
		}
	}
	if o.load && !slices.ContainsFunc(exports, func(e client.ExportEntry) bool { return e.Type == client.ExporterImage }) {
		exports = append(exports, client.ExportEntry{Type: client.ExporterImage, Attrs: map[string]string{}})
	}
	if len(exports) == 0 {
		exports = []client.ExportEntry{{Type: client.ExporterImage, Attrs: map[string]string{}}}
	}
	var out []client.ExportEntry
	for _, e := range exports {
		switch e.Type {
		case "cacheonly":
			continue
		case client.ExporterImage:
			e.Type = exporterMoby
			name := e.Attrs[keyImageName]
			if len(tags) > 0 {
				name = strings.Join(tags, ",")
				e.Attrs[keyImageName] = name
			}
			if push, _ := strconv.ParseBool(e.Attrs[keyPush]); push {
				if name == "" {
					return invalid("tag is needed when pushing to registry")
				}
				p.pushNames = append(p.pushNames, strings.Split(name, ",")...)
			}
			delete(e.Attrs, keyPush) // the daemon pushes after the build
		case client.ExporterOCI, client.ExporterDocker:
			if len(tags) > 0 {
				e.Attrs[keyImageName] = strings.Join(tags, ",")
			}
		}
		out = append(out, e)
	}
	p.solve.Exports = out
	return nil
}

// parseOutput parses one --output: CSV key=value pairs, or a bare path
// (type=local) or "-" (type=tar to stdout).
func parseOutput(s string) (client.ExportEntry, error) {
	e := client.ExportEntry{Attrs: map[string]string{}}
	fields, err := csvFields(s)
	if err != nil {
		return e, invalid("invalid output %q: %v", s, err)
	}
	if len(fields) == 1 && fields[0] == s && !strings.HasPrefix(s, "type=") {
		if s == "-" {
			e.Type = client.ExporterTar
		} else {
			e.Type = client.ExporterLocal
		}
		e.Attrs["dest"] = s
		return e, nil
	}
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return e, invalid("invalid value %s", f)
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if k == "type" {
			e.Type = v
		} else {
			e.Attrs[k] = v
		}
	}
	if e.Type == "" {
		return e, invalid("type is required for output")
	}
	return e, nil
}

// parseCacheEntries parses --cache-from/--cache-to: a bare reference is
// type=registry,ref=<it>.
func parseCacheEntries(specs []string) ([]client.CacheOptionsEntry, error) {
	var out []client.CacheOptionsEntry
	for _, s := range specs {
		fields, err := csvFields(s)
		if err != nil {
			return nil, invalid("invalid cache option %q: %v", s, err)
		}
		if len(fields) == 1 && !strings.Contains(fields[0], "=") {
			out = append(out, client.CacheOptionsEntry{Type: "registry", Attrs: map[string]string{"ref": fields[0]}})
			continue
		}
		e := client.CacheOptionsEntry{Attrs: map[string]string{}}
		for _, f := range fields {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				return nil, invalid("invalid value %s", f)
			}
			if k = strings.ToLower(k); k == "type" {
				e.Type = v
			} else {
				e.Attrs[k] = v
			}
		}
		if e.Type == "" {
			return nil, invalid("type required for %q", s)
		}
		out = append(out, e)
	}
	return out, nil
}

// extraHosts turns --add-host host:ip (or host=ip) into the frontend's
// "add-hosts" CSV; gateway says whether host-gateway needs resolving.
func extraHosts(in []string) (string, bool, error) {
	var hosts []string
	gateway := false
	for _, h := range in {
		host, ip, ok := strings.Cut(h, "=")
		if !ok {
			host, ip, ok = strings.Cut(h, ":")
		}
		if !ok || host == "" || ip == "" {
			return "", false, invalid("invalid host %s", h)
		}
		if ip == hostGatewayName {
			hosts = append(hosts, host+"="+ip)
			gateway = true
			continue
		}
		for _, v := range strings.Split(ip, ",") {
			if len(v) > 2 && v[0] == '[' && v[len(v)-1] == ']' {
				v = v[1 : len(v)-1]
			}
			if net.ParseIP(v) == nil {
				return "", false, invalid("invalid host %s", h)
			}
			hosts = append(hosts, host+"="+v)
		}
	}
	return strings.Join(hosts, ","), gateway, nil
}

// listToMap parses NAME=value entries; a bare NAME takes its value from
// the environment when lookup is set (and is left out when unset there),
// else the empty value.
func listToMap(values []string, lookup env) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range values {
		k, v, ok := strings.Cut(kv, "=")
		if k == "" {
			return nil, invalid("invalid key-value pair %q: empty key", kv)
		}
		if ok {
			m[k] = v
			continue
		}
		if lookup == nil {
			m[k] = ""
		} else if v, ok := lookup(k); ok {
			m[k] = v
		}
	}
	return m, nil
}

// setInputs sets the context and the Dockerfile: a local directory, a URL,
// or "-" (a tar, or a Dockerfile alone, on stdin); -f names a file anywhere
// (or "-" for stdin).
func (o *options) setInputs(p *plan, stdin io.Reader) error {
	so := &p.solve
	attrs := so.FrontendAttrs
	ctxPath := o.contextPath
	dfPath := o.file
	var (
		dockerfile    io.Reader
		dockerfileDir string
		dfName        = dfPath
	)
	switch {
	case ctxPath == "":
		return invalid(`please specify build context (e.g. "." for the current directory)`)
	case ctxPath == "-":
		if dfPath == "-" {
			return invalid("invalid argument: can't use stdin for both build context and dockerfile")
		}
		br := bufio.NewReaderSize(stdin, 1<<16)
		magic, err := br.Peek(1024)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("failed to peek context header from STDIN: %w", err)
		}
		if isArchive(magic) {
			// Unpacked and sent as a local context, not uploaded as a
			// remote one: BuildKit applies .dockerignore to local contexts
			// only, and docker's classic builder applied it to a tar.
			dir, err := os.MkdirTemp("", "berth-build-context-")
			if err != nil {
				return err
			}
			p.cleanup = append(p.cleanup, dir)
			if err := archive.Untar(br, dir, &archive.TarOptions{NoLchown: os.Geteuid() != 0}); err != nil {
				return fmt.Errorf("unpacking the context from stdin: %w", err)
			}
			if err := setLocalMount(so, "context", dir); err != nil {
				return err
			}
			switch dfPath {
			case "":
				dockerfileDir = dir
			default:
				rel := filepath.Join("/", dfPath) // inside the tar
				dockerfileDir, dfName = filepath.Join(dir, filepath.Dir(rel)), filepath.Base(rel)
			}
			break
		}
		if dfPath != "" {
			return invalid("ambiguous Dockerfile source: both stdin and flag correspond to Dockerfiles")
		}
		dockerfile = br
		empty, err := os.MkdirTemp("", "berth-build-empty-")
		if err != nil {
			return err
		}
		p.cleanup = append(p.cleanup, empty)
		if err := setLocalMount(so, "context", empty); err != nil {
			return err
		}
	case isLocalDir(ctxPath):
		if err := setLocalMount(so, "context", ctxPath); err != nil {
			return err
		}
		if abs, err := filepath.Abs(ctxPath); err == nil {
			so.SharedKey = filepath.Base(abs)
		}
		switch dfPath {
		case "-":
			dockerfile = stdin
		case "":
			dockerfileDir = ctxPath
		default:
			dockerfileDir, dfName = filepath.Dir(dfPath), filepath.Base(dfPath)
		}
	case isRemoteURL(ctxPath):
		attrs["context"] = ctxPath
		switch {
		case dfPath == "-":
			dockerfile = stdin
		case filepath.IsAbs(dfPath):
			dockerfileDir, dfName = filepath.Dir(dfPath), filepath.Base(dfPath)
			attrs["dockerfilekey"] = "dockerfile"
		}
	default:
		return invalid("unable to prepare context: path %q not found", ctxPath)
	}
	if dockerfile != nil {
		dir, err := os.MkdirTemp("", "berth-build-dockerfile-")
		if err != nil {
			return err
		}
		p.cleanup = append(p.cleanup, dir)
		f, err := os.Create(filepath.Join(dir, "Dockerfile"))
		if err != nil {
			return err
		}
		_, err = io.Copy(f, dockerfile)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("reading the Dockerfile from stdin: %w", err)
		}
		dockerfileDir, dfName = dir, "Dockerfile"
		attrs["dockerfilekey"] = "dockerfile"
	}
	if dfName == "" {
		dfName = "Dockerfile"
	}
	if dockerfileDir != "" {
		if err := setLocalMount(so, "dockerfile", dockerfileDir); err != nil {
			return err
		}
		dfName = lowercaseDockerfile(dockerfileDir, dfName)
	}
	attrs["filename"] = dfName
	return nil
}

// setNamedContext adds --build-context name=value: a local directory, or
// what the frontend resolves itself (docker-image://, a URL, target:).
func setNamedContext(p *plan, spec string) error {
	name, value, ok := strings.Cut(spec, "=")
	if !ok || name == "" || value == "" {
		return invalid("invalid context value: %s, expected key=value", spec)
	}
	if strings.Contains(value, "://") || strings.HasPrefix(value, "target:") || isRemoteURL(value) {
		p.solve.FrontendAttrs["context:"+name] = value
		return nil
	}
	if !isLocalDir(value) {
		return invalid("unable to prepare context %q: path %q not found", name, value)
	}
	local := "context:" + name
	if err := setLocalMount(&p.solve, local, value); err != nil {
		return err
	}
	p.solve.FrontendAttrs["context:"+name] = "local:" + local
	return nil
}

func setLocalMount(so *client.SolveOpt, name, dir string) error {
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		return err
	}
	so.LocalMounts[name] = fs
	return nil
}

// lowercaseDockerfile picks "dockerfile" when the default "Dockerfile" is
// absent but the lower-case name exists, as docker does.
func lowercaseDockerfile(dir, name string) string {
	if name != "Dockerfile" {
		return name
	}
	if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
		return name
	}
	if _, err := os.Lstat(filepath.Join(dir, "dockerfile")); err == nil {
		return "dockerfile"
	}
	return name
}

func isLocalDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func isRemoteURL(s string) bool {
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		return true
	}
	_, ok, _ := dfgitutil.ParseGitRef(s)
	return ok
}

// isArchive tells a tar (plain or compressed) from a Dockerfile by its
// first bytes.
func isArchive(h []byte) bool {
	for _, magic := range [][]byte{
		{0x1F, 0x8B, 0x08},                   // gzip
		{0x42, 0x5A, 0x68},                   // bzip2
		{0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00}, // xz
		{0x28, 0xB5, 0x2F, 0xFD},             // zstd
	} {
		if bytes.HasPrefix(h, magic) {
			return true
		}
	}
	if len(h) >= 262 && (bytes.Equal(h[257:262], []byte("ustar"))) {
		return true
	}
	// a tar header whose checksum is right (old-style tars without magic)
	if len(h) >= 512 {
		want, err := strconv.ParseUint(strings.TrimSpace(strings.Trim(string(h[148:156]), "\x00")), 8, 64)
		if err == nil {
			var sum uint64
			for i, b := range h[:512] {
				if i >= 148 && i < 156 {
					b = ' '
				}
				sum += uint64(b)
			}
			return sum == want
		}
	}
	return false
}

func csvFields(s string) ([]string, error) {
	r := csv.NewReader(strings.NewReader(s))
	r.TrimLeadingSpace = true
	fields, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	return fields, err
}

// parseBytes reads a size such as 64m or 1g.
func parseBytes(s string) (int64, error) {
	units := map[byte]int64{'b': 1, 'k': 1 << 10, 'm': 1 << 20, 'g': 1 << 30}
	ls := strings.ToLower(strings.TrimSpace(s))
	ls = strings.TrimSuffix(ls, "b")
	mult := int64(1)
	if n := len(ls); n > 0 {
		if u, ok := units[ls[n-1]]; ok {
			mult, ls = u, ls[:n-1]
		}
	}
	v, err := strconv.ParseFloat(ls, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("invalid size: %q", s)
	}
	return int64(v * float64(mult)), nil
}

// stdoutOutput writes an exported tar to stdout.
func stdoutOutput(map[string]string) (io.WriteCloser, error) { return nopCloser{os.Stdout}, nil }

// fileOutput creates dest when the exporter starts writing.
func fileOutput(dest string) func(map[string]string) (io.WriteCloser, error) {
	return func(map[string]string) (io.WriteCloser, error) { return os.Create(dest) }
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// invalid is a bad-flag error: its text is docker's message alone, and
// it matches errdefs.ErrInvalidArgument.
func invalid(format string, args ...any) error {
	return invalidError{fmt.Sprintf(format, args...)}
}

type invalidError struct{ msg string }

func (e invalidError) Error() string      { return e.msg }
func (invalidError) Is(target error) bool { return target == errdefs.ErrInvalidArgument }

// notImplemented is an unsupported-feature error with a bare message that
// matches errdefs.ErrNotImplemented.
func notImplemented(format string, args ...any) error {
	return notImplementedError{fmt.Sprintf(format, args...)}
}

type notImplementedError struct{ msg string }

func (e notImplementedError) Error() string      { return e.msg }
func (notImplementedError) Is(target error) bool { return target == errdefs.ErrNotImplemented }

// setAttestations turns --provenance, --sbom and --attest into the
// frontend's attest:<type> attributes, as buildx does; a disabled one
// (--provenance=false) sends nothing. berthd's exporter stores the image
// with its attestation manifest.
func (o *options) setAttestations(attrs map[string]string) error {
	specs := slices.Clone(o.attests)
	for typ, v := range map[string]string{"provenance": o.provenance, "sbom": o.sbom} {
		if v == "" {
			continue
		}
		if b, err := strconv.ParseBool(v); err == nil {
			specs = append(specs, fmt.Sprintf("type=%s,disabled=%t", typ, !b))
		} else {
			specs = append(specs, "type="+typ+","+v)
		}
	}
	seen := map[string]bool{}
	for _, spec := range specs {
		fields, err := csvFields(spec)
		if err != nil {
			return invalid("invalid attestation %q: %v", spec, err)
		}
		typ, disabled := "", false
		var rest []string
		for _, f := range fields {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				return invalid("invalid value %s", f)
			}
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "type":
				typ = v
			case "disabled":
				if disabled, err = strconv.ParseBool(v); err != nil {
					return invalid("invalid value %s", f)
				}
			default:
				rest = append(rest, f)
			}
		}
		if typ == "" {
			return invalid("attestation type not specified")
		}
		if seen[typ] {
			continue // the first one wins, as buildx's
		}
		seen[typ] = true
		if !disabled {
			attrs["attest:"+typ] = strings.Join(append([]string{"type=" + typ}, rest...), ",")
		}
	}
	return nil
}
