// Command local runs a stack of this repository against the local EKS
// world (package localworld), with no AWS account:
//
//	go run ./cmd/local up [STACK]     start the world if needed, then `pulumi up` STACK (default dev)
//	go run ./cmd/local down [STACK]   `pulumi destroy` STACK (default: every stack here), stop the world, remove its files
//	go run ./cmd/local status         what runs, where, and the stacks in it
//
// The world stays up between commands, in --dir (default
// ~/.local/state/eks-pod-identity-local; EKS_POD_IDENTITY_LOCAL overrides).
// The engine tier starts the same world with `world start` and stops it
// with `world stop`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/platform-eng/eks-pod-identity/localworld"
)

const usage = `usage: go run ./cmd/local [--dir DIR] [--project DIR] COMMAND

  up [STACK]     start the local EKS world if it is not running, then run
                 pulumi up for Pulumi.STACK.yaml (default dev) against it;
                 --project: where Pulumi.yaml and the stack file are
                 (default: the repository root)
  down [STACK]   pulumi destroy STACK (default: every stack in the world),
                 then stop the world's processes and remove its files
  status         say what runs and which stacks the world holds
  world start|stop [--keep]|env
                 the world alone (the engine tier's use): start it, stop
                 it and remove it (--keep: keep its files), or print its
                 environment file`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, usage)
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(args []string) error {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	dir := fs.String("dir", "", "the world's directory (default ~/.local/state/eks-pod-identity-local)")
	project := fs.String("project", "", "the directory of Pulumi.yaml and the stack files (default: the repository root)")
	fs.Usage = func() { fmt.Fprintln(os.Stderr, usage) }
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return usageError{"no command"}
	}
	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	repo, err := localworld.FindRepo(cwd)
	if err != nil {
		return err
	}
	if *dir == "" {
		if *dir, err = localworld.DefaultDir(); err != nil {
			return err
		}
	}
	w := &localworld.World{Dir: *dir, Repo: repo, Out: os.Stdout, AWSPluginPkg: os.Getenv("ENGINE_AWS_PLUGIN_PKG")}
	if *project == "" {
		*project = repo
	}
	if *project, err = filepath.Abs(*project); err != nil {
		return err
	}

	// Ctrl-C cancels the command; the Pulumi CLI gets it too and stops
	// cleanly. The world's processes run in sessions of their own.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cmd, rest := rest[0], rest[1:]
	stack := func() (string, error) {
		switch len(rest) {
		case 0:
			return "", nil
		case 1:
			return rest[0], nil
		}
		return "", usageError{fmt.Sprintf("%s takes at most one STACK, got %q", cmd, rest)}
	}
	switch cmd {
	case "up":
		s, err := stack()
		if err != nil {
			return err
		}
		if s == "" {
			s = "dev"
		}
		return up(ctx, w, *project, s)
	case "down":
		s, err := stack()
		if err != nil {
			return err
		}
		return down(ctx, w, s)
	case "status":
		if len(rest) > 0 {
			return usageError{"status takes no arguments"}
		}
		return status(w)
	case "world":
		switch {
		case len(rest) == 1:
			return world(ctx, w, rest[0], false)
		case len(rest) == 2 && rest[0] == "stop" && rest[1] == "--keep":
			return world(ctx, w, "stop", true)
		}
		return usageError{"world takes one of start, stop [--keep], env"}
	}
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

// world is the engine tier's use: the world alone, no stack.
func world(ctx context.Context, w *localworld.World, sub string, keep bool) error {
	unlock, err := w.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	switch sub {
	case "start":
		if w.Status() != localworld.Absent {
			return fmt.Errorf("a local world is recorded in %s already; `world stop` it first", w.Dir)
		}
		w.Smoke = os.Getenv("ENGINE_SKIP_SMOKE") != "1"
		return w.Start(ctx)
	case "stop":
		// --keep: stop the processes, keep the logs and state for a look.
		return w.Stop(context.Background(), !keep)
	case "env":
		if _, err := w.Env(); err != nil {
			return err
		}
		fmt.Println(w.EnvFile())
		return nil
	}
	return usageError{fmt.Sprintf("unknown world command %q (start, stop, env)", sub)}
}
