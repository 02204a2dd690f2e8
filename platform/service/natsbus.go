package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"sinp.occitanie.fr/platform/bus"
)

// openBus connects to the deployment's NATS: SINP_NATS_URL; else the
// server that answers on the embedded port (another process's); else one
// it starts. It waits for the bus and creates the streams.
func (p *Process) openBus(ctx context.Context, opt Options) (string, func(), error) {
	url, stop := p.Config.NATS.URL, func() {}
	if url == "" {
		var err error
		if url, stop, err = p.findOrStartBus(ctx, opt); err != nil {
			return "", nil, err
		}
	}
	err := waitFor(ctx, p.Log, "NATS at "+bus.Redacted(url), func() error {
		var err error
		if p.NC == nil {
			if p.NC, p.JS, err = bus.Connect(ctx, url, "sinp"); err != nil {
				return err
			}
		}
		return bus.EnsureStreams(ctx, p.JS, p.Config.NATS)
	})
	if err != nil {
		stop()
		return "", nil, err
	}
	return url, stop, nil
}

// answers says whether the deployment's embedded server answers at url;
// it fails for a server it must not join: one holding the port for
// another user, one admitting anyone, one refusing this data directory's
// password (another data directory's).
func answers(url, dir string) (bool, error) {
	err := bus.Probe(url)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bus.ErrForeignListener), errors.Is(err, bus.ErrOpenServer):
		return false, fmt.Errorf("SINP_NATS_EMBEDDED_PORT: %s: %w", bus.Redacted(url), err)
	case errors.Is(err, nats.ErrAuthorization):
		return false, fmt.Errorf("SINP_NATS_EMBEDDED_PORT: the NATS server on %s refuses this data directory's password (%s): another deployment's? Give each its own port",
			bus.Redacted(url), bus.PasswordFile(dir))
	}
	return false, nil
}

// findOrStartBus never leaves two servers on one store: it joins the one
// already listening on the embedded port, and a server it starts for
// others to join (BusCommand) runs in a process of its own, so that no
// process stops a bus another uses.
func (p *Process) findOrStartBus(ctx context.Context, opt Options) (string, func(), error) {
	cfg := p.Config
	port := cfg.NATS.EmbeddedPort
	dir := filepath.Join(cfg.DataDir, "nats")
	// The embedded server's credentials are in the data directory it shares
	// with the processes that join it.
	local, err := bus.EmbeddedURL(dir, port)
	if err != nil {
		return "", nil, fmt.Errorf("SINP_DATA_DIR: %w", err)
	}
	if port > 0 {
		if ok, err := answers(local, dir); err != nil {
			return "", nil, err
		} else if ok {
			p.Log.Info("joining the NATS server already running", "url", bus.Redacted(local))
			return local, func() {}, nil
		}
	}
	if port <= 0 || len(opt.BusCommand) == 0 {
		e, err := bus.StartEmbedded(dir, port, p.Log)
		if err != nil {
			return "", nil, err
		}
		return e.URL, e.Shutdown, nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", nil, fmt.Errorf("SINP_DATA_DIR: %w", err)
	}
	// Processes starting together: one starts the server, the others join.
	lock, err := os.OpenFile(filepath.Join(dir, "start.lock"), os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return "", nil, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", nil, err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if ok, err := answers(local, dir); err != nil {
		return "", nil, err
	} else if ok {
		p.Log.Info("joining the NATS server already running", "url", bus.Redacted(local))
		return local, func() {}, nil
	}
	logFile, err := os.OpenFile(filepath.Join(dir, "nats.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return "", nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(opt.BusCommand[0], opt.BusCommand[1:]...)
	cmd.Env = append(os.Environ(), "SINP_DATA_DIR="+cfg.DataDir, fmt.Sprintf("SINP_NATS_EMBEDDED_PORT=%d", port), "SINP_NATS_URL=")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("starting the NATS server (%v): %w", opt.BusCommand, err)
	}
	pid := cmd.Process.Pid
	_ = cmd.Process.Release()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := answers(local, dir)
		if err != nil {
			return "", nil, err
		}
		if ok {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return "", nil, fmt.Errorf("the NATS server started (pid %d) does not answer on %s after 20s: see %s", pid, bus.Redacted(local), logFile.Name())
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.Log.Info("started the deployment's NATS server in a process of its own; it outlives this one (stop it with `sinp nats stop`)",
		"url", bus.Redacted(local), "pid", pid, "log", logFile.Name())
	return local, func() {}, nil
}
