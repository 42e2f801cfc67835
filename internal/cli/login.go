package cli

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"
	"github.com/moby/term"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/registry/credentials"
)

// configPath is berth's config.json, following the root --config flag.
func configPath(cmd *cobra.Command) string {
	return credentialsPath(configDir(cmd))
}

// configDir is the root --config flag's value.
func configDir(cmd *cobra.Command) string {
	dir, _ := cmd.Root().Flags().GetString("config")
	return dir
}

// credentialsPath is berth's config.json in dir (see BerthConfigPath).
func credentialsPath(dir string) string { return credentials.BerthConfigPath(dir) }

// credentialKey is the key a registry's credentials are stored under:
// Docker Hub's index address, else host[:port].
func credentialKey(domain string) string {
	if domain == "" || domain == "docker.io" || domain == "index.docker.io" {
		return credentials.IndexServer
	}
	return domain
}

// registryAuth is the X-Registry-Auth value for the registry of ref: the
// credentials stored by `berth login` (or `docker login`), else none.
func registryAuth(configFile string, named reference.Named) (string, error) {
	key := credentialKey(reference.Domain(named))
	cfg, err := credentials.Lookup(configFile, credentials.DockerConfigPath(), key)
	if err != nil {
		return "", err
	}
	return encodeAuth(cfg)
}

// encodeAuth is docker's X-Registry-Auth encoding: base64url JSON.
func encodeAuth(cfg registry.AuthConfig) (string, error) {
	data, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	return base64.URLEncoding.EncodeToString(data), nil
}

type loginOptions struct {
	user, password string
	passwordStdin  bool
}

func newLoginCommand(c *Cli) *cobra.Command {
	var opts loginOptions
	cmd := &cobra.Command{
		Use:   "login [OPTIONS] [SERVER]",
		Short: "Authenticate to a registry",
		Long:  "Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.",
		Args:  atMostArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server := credentials.IndexServer
			if len(args) > 0 && args[0] != "docker.io" {
				server = args[0]
			}
			return runLogin(cmd, c, server, opts)
		},
	}
	flags := cmd.Flags()
	flags.StringVarP(&opts.user, "username", "u", "", "Username")
	flags.StringVarP(&opts.password, "password", "p", "", "Password or Personal Access Token (PAT)")
	flags.BoolVar(&opts.passwordStdin, "password-stdin", false, "Take the Password or Personal Access Token (PAT) from stdin")
	return cmd
}

// runLogin checks the credentials with the daemon, then stores them.
func runLogin(cmd *cobra.Command, c *Cli, server string, opts loginOptions) error {
	ctx := cmd.Context()
	if opts.password != "" {
		fmt.Fprintln(c.Err, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
		if opts.passwordStdin {
			return errors.New("--password and --password-stdin are mutually exclusive")
		}
	}
	if opts.passwordStdin {
		if opts.user == "" {
			return errors.New("Must provide --username with --password-stdin") //nolint:staticcheck // docker's message
		}
		data, err := io.ReadAll(c.In)
		if err != nil {
			return err
		}
		opts.password = strings.TrimRight(strings.TrimSuffix(string(data), "\n"), "\r")
	}
	path := configPath(cmd)
	file, err := credentials.Load(path)
	if err != nil {
		return err
	}
	api, err := c.Client(ctx)
	if err != nil {
		return err
	}
	if opts.user == "" && opts.password == "" {
		// Try what is stored first, as docker does.
		if stored, ok, _ := file.Get(server); ok && stored.Username != "" {
			fmt.Fprintf(c.Out, "Authenticating with existing credentials... [Username: %s]\n", stored.Username)
			if _, err := api.RegistryLogin(ctx, client.RegistryLoginOptions{Username: stored.Username, Password: stored.Password, ServerAddress: server, IdentityToken: stored.IdentityToken}); err == nil {
				fmt.Fprintln(c.Out, "\nLogin Succeeded")
				return nil
			}
		}
	}
	if opts.user == "" || opts.password == "" {
		if err := promptCredentials(c, server, &opts); err != nil {
			return err
		}
	}
	res, err := api.RegistryLogin(ctx, client.RegistryLoginOptions{Username: opts.user, Password: opts.password, ServerAddress: server})
	if err != nil {
		return err
	}
	cfg := registry.AuthConfig{Username: opts.user, Password: opts.password, ServerAddress: server}
	if res.Auth.IdentityToken != "" {
		cfg.Password, cfg.IdentityToken = "", res.Auth.IdentityToken
	}
	if err := file.Store(cfg); err != nil {
		return fmt.Errorf("error saving credentials: %w", err)
	}
	if !file.UsesHelper(server) {
		fmt.Fprintf(c.Err, "\nWARNING! Your credentials are stored unencrypted in '%s'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n", path)
	}
	status := res.Auth.Status
	if status == "" {
		status = "Login Succeeded"
	}
	fmt.Fprintln(c.Out, status)
	return nil
}

// promptCredentials asks for what the flags did not give, on a terminal.
func promptCredentials(c *Cli, server string, opts *loginOptions) error {
	fd, tty := terminalFd(c.In)
	if !tty {
		return errors.New("Error: Cannot perform an interactive login from a non TTY device") //nolint:staticcheck // docker's message
	}
	r := bufio.NewReader(c.In)
	if opts.user == "" {
		fmt.Fprintf(c.Out, "Username: ")
		line, err := r.ReadString('\n')
		if err != nil && line == "" {
			return err
		}
		opts.user = strings.TrimSpace(line)
		if opts.user == "" {
			return errors.New("Error: Non-null Username Required") //nolint:staticcheck // docker's message
		}
	}
	if opts.password == "" {
		state, err := term.SaveState(fd)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Out, "Password: ")
		_ = term.DisableEcho(fd, state)
		line, rerr := r.ReadString('\n')
		_ = term.RestoreTerminal(fd, state)
		fmt.Fprintln(c.Out)
		if rerr != nil && line == "" {
			return rerr
		}
		opts.password = strings.TrimRight(line, "\r\n")
		if opts.password == "" {
			return errors.New("Error: Password Required") //nolint:staticcheck // docker's message
		}
	}
	return nil
}

func newLogoutCommand(c *Cli) *cobra.Command {
	return &cobra.Command{
		Use:   "logout [SERVER]",
		Short: "Log out from a registry",
		Long:  "Log out from a registry.\nIf no server is specified, the default is defined by the daemon.",
		Args:  atMostArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server := credentials.IndexServer
			if len(args) > 0 && args[0] != "docker.io" {
				server = args[0]
			}
			return runLogout(c, configPath(cmd), server)
		},
	}
}

// runLogout erases server's credentials from berth's config file. berth
// also reads docker's config.json when its own has no entry, and a berth
// logout must not touch docker's login, so when docker's file still holds
// credentials for server the logout is recorded in berth's file, which
// stops the fallback for that server until the next `berth login`.
func runLogout(c *Cli, berthPath, server string) error {
	file, err := credentials.Load(berthPath)
	if err != nil {
		return err
	}
	if file.IsLoggedOut(server) {
		fmt.Fprintf(c.Out, "Not logged in to %s\n", server)
		return nil
	}
	found, err := file.Erase(server)
	if err != nil {
		return err
	}
	docker, err := credentials.Load(credentials.DockerConfigPath())
	if err != nil {
		return err
	}
	if _, inDocker, err := docker.Get(server); err == nil && inDocker {
		found = true
		if err := file.MarkLoggedOut(server); err != nil {
			return err
		}
	}
	if !found {
		fmt.Fprintf(c.Out, "Not logged in to %s\n", server)
		return nil
	}
	fmt.Fprintf(c.Out, "Removing login credentials for %s\n", server)
	return nil
}
