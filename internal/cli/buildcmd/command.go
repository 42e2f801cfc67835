// Package buildcmd is `berth build`: a BuildKit client, as docker's buildx
// is with its docker driver. It reaches berthd's BuildKit through the API
// socket (POST /grpc and /session, upgraded to h2c), sends the context and
// the Dockerfile over the session, and solves with the dockerfile frontend
// and the "moby" exporter, so the image lands in berth's store.
//
// It links BuildKit's client, gRPC and OpenTelemetry, which cost start-up
// time, so only cmd/berth-build links it; berth execs that program for its
// build commands (see cli.BuildProgram).
package buildcmd

import (
	"os"

	"github.com/berth-project/berth/internal/cli"
	"github.com/spf13/cobra"
)

// options are the build flags, as docker's buildx build has them.
type options struct {
	contextPath   string
	tags          []string
	file          string
	buildArgs     []string
	target        string
	noCache       bool
	pull          bool
	quiet         bool
	iidFile       string
	labels        []string
	network       string
	addHosts      []string
	cacheFrom     []string
	cacheTo       []string
	platforms     []string
	progress      string
	secrets       []string
	ssh           []string
	outputs       []string
	push          bool
	load          bool
	metadataFile  string
	buildContexts []string
	allow         []string
	noCacheFilter []string
	shmSize       string
	ulimits       []string
	cgroupParent  string
	provenance    string
	sbom          string
	attests       []string
}

// NewCommand makes the build command (`build`, `image build`, `builder
// build`) with docker's flags.
func NewCommand(c *cli.Cli) *cobra.Command {
	cmd, _ := newCommand(c)
	return cmd
}

// newCommand makes the command and the options its flags fill.
func newCommand(c *cli.Cli) (*cobra.Command, *options) {
	o := &options{}
	cmd := &cobra.Command{
		Use:   "build [OPTIONS] PATH | URL | -",
		Short: "Build an image from a Dockerfile",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.contextPath = args[0]
			return run(cmd, c, o)
		},
	}
	progressDefault := "auto"
	if v := os.Getenv("BUILDKIT_PROGRESS"); v != "" {
		progressDefault = v
	}
	var platformDefault []string
	if v := os.Getenv("DOCKER_DEFAULT_PLATFORM"); v != "" {
		platformDefault = []string{v}
	}
	flags := cmd.Flags()
	flags.StringSliceVar(&o.addHosts, "add-host", nil, `Add a custom host-to-IP mapping (format: "host:ip")`)
	flags.StringArrayVar(&o.allow, "allow", nil, `Allow extra privileged entitlement (e.g., "network.host", "security.insecure")`)
	flags.StringArrayVar(&o.buildArgs, "build-arg", nil, "Set build-time variables")
	flags.StringArrayVar(&o.buildContexts, "build-context", nil, "Additional build contexts (e.g., name=path)")
	flags.StringArrayVar(&o.cacheFrom, "cache-from", nil, `External cache sources (e.g., "user/app:cache", "type=local,src=path/to/dir")`)
	flags.StringArrayVar(&o.cacheTo, "cache-to", nil, `Cache export destinations (e.g., "user/app:cache", "type=local,dest=path/to/dir")`)
	flags.StringVar(&o.cgroupParent, "cgroup-parent", "", `Set the parent cgroup for the "RUN" instructions during build`)
	flags.StringVarP(&o.file, "file", "f", "", `Name of the Dockerfile (default: "PATH/Dockerfile")`)
	flags.StringVar(&o.iidFile, "iidfile", "", "Write the image ID to a file")
	flags.StringArrayVar(&o.labels, "label", nil, "Set metadata for an image")
	flags.BoolVar(&o.load, "load", false, `Shorthand for "--output=type=docker"`)
	flags.StringVar(&o.metadataFile, "metadata-file", "", "Write build result metadata to a file")
	flags.StringVar(&o.network, "network", "default", "Set the networking mode for the \"RUN\" instructions during build")
	flags.BoolVar(&o.noCache, "no-cache", false, "Do not use cache when building the image")
	flags.StringArrayVar(&o.noCacheFilter, "no-cache-filter", nil, "Do not cache specified stages")
	flags.StringArrayVarP(&o.outputs, "output", "o", nil, `Output destination (format: "type=local,dest=path")`)
	flags.StringArrayVar(&o.platforms, "platform", platformDefault, "Set target platform for build")
	flags.StringVar(&o.progress, "progress", progressDefault, `Set type of progress output ("auto", "quiet", "plain", "tty", "rawjson"). Use plain to show container output`)
	flags.BoolVar(&o.pull, "pull", false, "Always attempt to pull all referenced images")
	flags.BoolVar(&o.push, "push", false, `Shorthand for "--output=type=registry"`)
	flags.BoolVarP(&o.quiet, "quiet", "q", false, "Suppress the build output and print image ID on success")
	flags.StringArrayVar(&o.secrets, "secret", nil, `Secret to expose to the build (format: "id=mysecret[,src=/local/secret]")`)
	flags.StringVar(&o.shmSize, "shm-size", "", `Shared memory size for build containers`)
	flags.StringArrayVar(&o.ssh, "ssh", nil, `SSH agent socket or keys to expose to the build (format: "default|<id>[=<socket>|<key>[,<key>]]")`)
	flags.StringArrayVarP(&o.tags, "tag", "t", nil, `Name and optionally a tag (format: "name:tag")`)
	flags.StringVar(&o.target, "target", "", "Set the target build stage to build")
	flags.StringArrayVar(&o.ulimits, "ulimit", nil, "Ulimit options")
	flags.StringVar(&o.provenance, "provenance", "", `Shorthand for "--attest=type=provenance"`)
	flags.Lookup("provenance").NoOptDefVal = "true"
	flags.StringVar(&o.sbom, "sbom", "", `Shorthand for "--attest=type=sbom"`)
	flags.Lookup("sbom").NoOptDefVal = "true"
	flags.StringArrayVar(&o.attests, "attest", nil, `Attestation parameters (format: "type=sbom,generator=image")`)
	// accepted for docker's sake, as buildx accepts them
	flags.Bool("disable-content-trust", true, "Skip image verification")
	_ = flags.MarkHidden("disable-content-trust")
	flags.Bool("rm", true, "Remove intermediate containers after a successful build")
	_ = flags.MarkHidden("rm")
	flags.Bool("force-rm", false, "Always remove intermediate containers")
	_ = flags.MarkHidden("force-rm")
	return cmd, o
}

// exactArgs is docker's "requires exactly n arguments" check.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == n {
			return nil
		}
		return cli.StatusError{StatusCode: 1, Status: "ERROR: \"" + cmd.CommandPath() + "\" requires exactly 1 argument.\nSee '" +
			cmd.CommandPath() + " --help'.\n\nUsage:  " + cmd.UseLine() + "\n\n" + cmd.Short}
	}
}
