package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// binaries makes sure daprd, placement, scheduler and the apps' binaries exist in
// BinDir, building what is missing. One lock file serialises builders, so
// test packages starting stacks at once do not build the sidecar twice.
func (s *Stack) binaries(ctx context.Context) error {
	o := s.opts
	if err := os.MkdirAll(o.BinDir, 0o755); err != nil {
		return err
	}
	unlock, err := lockFile(filepath.Join(o.BinDir, ".build.lock"))
	if err != nil {
		return err
	}
	defer unlock()

	s.daprd, err = EnsureSidecar(ctx, o.RepoRoot, o.BinDir, "daprd", o.Progress)
	if err != nil {
		return err
	}
	s.placement, err = EnsureSidecar(ctx, o.RepoRoot, o.BinDir, "placement", o.Progress)
	if err != nil {
		return err
	}
	s.scheduler, err = EnsureSidecar(ctx, o.RepoRoot, o.BinDir, "scheduler", o.Progress)
	if err != nil {
		return err
	}

	var pkgs []string
	byBase := map[string]string{}
	for _, app := range o.Apps {
		pkg := o.Packages[app]
		if pkg == "" {
			pkg = path.Join(filepath.ToSlash(o.AppDir), app)
		}
		pkg = "./" + strings.TrimPrefix(filepath.ToSlash(pkg), "./")
		base := path.Base(pkg)
		if other, ok := byBase[base]; ok && other != pkg {
			return fmt.Errorf("packages %s and %s would build the same binary %s", other, pkg, base)
		}
		if _, ok := byBase[base]; !ok {
			pkgs = append(pkgs, pkg)
		}
		byBase[base] = pkg
		s.binOf[app] = filepath.Join(o.BinDir, base)
	}
	if o.SkipBuild {
		for app, bin := range s.binOf {
			if _, err := os.Stat(bin); err != nil {
				return fmt.Errorf("app %s: %w (SkipBuild set)", app, err)
			}
		}
		return nil
	}
	start := time.Now()
	s.progress("building %s", strings.Join(pkgs, " "))
	args := append([]string{"build", "-o", o.BinDir + string(filepath.Separator)}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = o.RepoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	s.progress("built the apps in %s", time.Since(start).Round(time.Millisecond))
	return nil
}

// EnsureSidecar returns the path of daprd, placement or scheduler (name): the one in
// binDir if present and newer than every source of dapr/sidecar, else one
// on PATH, else one built from dapr/sidecar into binDir (several minutes
// the first time, about a minute after a change).
func EnsureSidecar(ctx context.Context, repoRoot, binDir, name string, progress io.Writer) (string, error) {
	if name != "daprd" && name != "placement" && name != "scheduler" {
		return "", fmt.Errorf("unknown sidecar binary %q", name)
	}
	bin := filepath.Join(binDir, name)
	src := filepath.Join(repoRoot, "dapr", "sidecar")
	fi, err := os.Stat(bin)
	switch {
	case err == nil && !fi.IsDir() && !newerSource(src, fi.ModTime()):
		return bin, nil
	case err == nil:
		if progress != nil {
			fmt.Fprintf(progress, "harvest-stack: dapr/sidecar changed since %s was built\n", bin)
		}
	default:
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	pkg := "."
	if name != "daprd" {
		pkg = "./" + name
	}
	if progress != nil {
		fmt.Fprintf(progress, "harvest-stack: building %s from dapr/sidecar (takes a few minutes the first time)\n", name)
	}
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "stablecomponents", "-ldflags", SidecarLDFlags, "-o", bin, pkg)
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", name, err, out)
	}
	if progress != nil {
		fmt.Fprintf(progress, "harvest-stack: built %s in %s\n", name, time.Since(start).Round(time.Second))
	}
	return bin, nil
}

// SidecarLDFlags stamps the Dapr version into daprd, placement and the
// Scheduler (without it they report "edge"); keep it equal to the
// github.com/dapr/dapr version in dapr/sidecar/go.mod and to the Makefile's.
const SidecarLDFlags = "-X github.com/dapr/dapr/pkg/buildinfo.version=1.18.0"

// newerSource reports whether a Go source, go.mod or go.sum under dir is
// newer than t, so a pulled change to the sidecar is built, not ignored.
func newerSource(dir string, t time.Time) bool {
	newer := false
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || newer {
			return nil
		}
		if n := d.Name(); strings.HasSuffix(n, ".go") || n == "go.mod" || n == "go.sum" {
			if info, err := d.Info(); err == nil && info.ModTime().After(t) {
				newer = true
			}
		}
		return nil
	})
	return newer
}

// lockFile takes an exclusive flock on path, released by the returned func.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// tryLockFile takes an exclusive flock on path without waiting; it fails
// when another stack holds it.
func tryLockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, errors.New("in use by another running stack")
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// pruneRunDirs removes earlier run dirs of test stack name (<name>-<hex>)
// that no running stack holds and that are more than an hour old, so
// .run does not grow without bound while recent logs stay readable.
func pruneRunDirs(parent, name, keep string) {
	dirs, _ := filepath.Glob(filepath.Join(parent, name+"-*"))
	for _, d := range dirs {
		if d == keep {
			continue
		}
		fi, err := os.Stat(d)
		if err != nil || !fi.IsDir() || time.Since(fi.ModTime()) < time.Hour {
			continue
		}
		unlock, err := tryLockFile(filepath.Join(d, ".lock"))
		if err != nil {
			continue
		}
		_ = os.RemoveAll(d)
		unlock()
	}
}
