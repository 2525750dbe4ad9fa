package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
)

// ServerOptions configure an embedded NATS server.
type ServerOptions struct {
	// Dir is where JetStream keeps its files (required). One process at a
	// time may use it: StartServer takes a lock and fails if it is held.
	Dir string
	// Name is the server's name, unique within a cluster; default "geopulse".
	Name string
	// Host is the client listen address. Empty: the server does not listen
	// at all and is reachable only in process (Server.Connect).
	Host string
	// Port is the client port when Host is set; 0 picks a free port.
	Port int
	// SyncAlways fsyncs every write before it is acknowledged. Without it
	// writes reach the OS page cache before the PubAck (so a killed process
	// loses nothing) and are fsynced every SyncInterval.
	SyncAlways bool
	// SyncInterval is the fsync period; 0 keeps NATS's default (2 min).
	SyncInterval time.Duration
	// Cluster, when set, makes the server a node of a JetStream cluster.
	Cluster *ClusterOptions
	// Logger receives the server's warnings and errors (notices at debug);
	// nil discards.
	Logger *slog.Logger
	// StartTimeout bounds the wait for the server to accept connections;
	// default 30 s (recovering a large store takes a while).
	StartTimeout time.Duration
}

// ClusterOptions make an embedded server a JetStream cluster node.
type ClusterOptions struct {
	Name   string   // cluster name, the same on every node
	Host   string   // route listen host, e.g. "127.0.0.1"
	Port   int      // route port; 0 picks a free one
	Routes []string // nats-route://host:port of the other nodes
}

// Server is an embedded NATS server with JetStream.
type Server struct {
	srv    *natsserver.Server
	unlock func() error
	logger *slog.Logger
}

// StartServer starts an embedded server on opts.Dir and waits until it
// accepts connections.
func StartServer(opts ServerOptions) (*Server, error) {
	if opts.Dir == "" {
		return nil, errors.New("start nats: no store directory")
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("start nats: %w", err)
	}
	unlock, err := lockDir(filepath.Join(opts.Dir, "geopulse.lock"))
	if err != nil {
		return nil, fmt.Errorf("start nats in %s: %w (is another geopulse process using it?)", opts.Dir, err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	name := opts.Name
	if name == "" {
		name = "geopulse"
	}
	so := &natsserver.Options{
		ServerName:   name,
		JetStream:    true,
		StoreDir:     opts.Dir,
		SyncAlways:   opts.SyncAlways,
		SyncInterval: opts.SyncInterval,
		NoSigs:       true, // signals belong to the geopulse process
		MaxPayload:   MaxMessageBytes,
	}
	if opts.Host == "" {
		so.DontListen = true
	} else {
		so.Host, so.Port = opts.Host, opts.Port
		if so.Port == 0 {
			so.Port = natsserver.RANDOM_PORT
		}
	}
	if c := opts.Cluster; c != nil {
		so.Cluster = natsserver.ClusterOpts{Name: c.Name, Host: c.Host, Port: c.Port}
		if so.Cluster.Port == 0 {
			so.Cluster.Port = natsserver.RANDOM_PORT
		}
		for _, r := range c.Routes {
			u, err := url.Parse(r)
			if err != nil {
				unlock()
				return nil, fmt.Errorf("start nats: route %q: %w", r, err)
			}
			so.Routes = append(so.Routes, u)
		}
	}
	srv, err := natsserver.NewServer(so)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("start nats: %w", err)
	}
	sl := serverLogger{l: logger, fatal: new(atomic.Pointer[string])}
	srv.SetLoggerV2(sl, false, false, false)
	srv.Start()
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	fail := func(err error) (*Server, error) {
		srv.Shutdown()
		srv.WaitForShutdown()
		unlock()
		return nil, fmt.Errorf("start nats in %s: %w", opts.Dir, err)
	}
	// Poll in short steps: a fatal start-up error (the server only logs
	// it) must fail fast rather than after the whole timeout.
	for deadline := time.Now().Add(timeout); !srv.ReadyForConnections(100 * time.Millisecond); {
		if msg := sl.fatal.Load(); msg != nil {
			return fail(errors.New(*msg))
		}
		if time.Now().After(deadline) {
			return fail(fmt.Errorf("not ready after %s", timeout))
		}
	}
	if msg := sl.fatal.Load(); msg != nil {
		return fail(errors.New(*msg))
	}
	return &Server{srv: srv, unlock: unlock, logger: logger}, nil
}

// Name is the server's name, as stream info reports its leader.
func (s *Server) Name() string { return s.srv.Name() }

// ClientURL is the URL clients dial; "" when the server does not listen.
func (s *Server) ClientURL() string {
	if s.srv.Addr() == nil {
		return ""
	}
	return s.srv.ClientURL()
}

// ClusterURL is the route URL other cluster nodes list; "" outside a cluster.
func (s *Server) ClusterURL() string {
	addr := s.srv.ClusterAddr()
	if addr == nil {
		return ""
	}
	return fmt.Sprintf("nats-route://%s", addr.String())
}

// Connect opens an in-process client connection: no socket, no port.
func (s *Server) Connect(name string) (*natsgo.Conn, error) {
	return natsgo.Connect("", append(connOptions(name, s.logger), natsgo.InProcessServer(s.srv))...)
}

// Shutdown stops the server, waits until its files are closed and
// releases the directory lock. It is safe to call more than once.
func (s *Server) Shutdown() error {
	if s == nil || s.srv == nil {
		return nil
	}
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
	s.srv = nil
	return s.unlock()
}

// Dial connects to an external NATS server or cluster (comma-separated
// URLs). The connection reconnects for ever: a worker or API node outlives
// a restart of the NATS cluster.
func Dial(urls, name string, logger *slog.Logger) (*natsgo.Conn, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	nc, err := natsgo.Connect(urls, connOptions(name, logger)...)
	if err != nil {
		return nil, fmt.Errorf("connect to nats %s: %w", redactURL(urls), err)
	}
	return nc, nil
}

func connOptions(name string, logger *slog.Logger) []natsgo.Option {
	return []natsgo.Option{
		natsgo.Name(name),
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(250 * time.Millisecond),
		natsgo.RetryOnFailedConnect(false),
		natsgo.DisconnectErrHandler(func(_ *natsgo.Conn, err error) {
			if err != nil {
				logger.Warn("nats disconnected", slog.Any(keyError, err))
			}
		}),
		natsgo.ReconnectHandler(func(nc *natsgo.Conn) {
			logger.Info("nats reconnected", slog.String(keyServer, nc.ConnectedServerName()))
		}),
		natsgo.ErrorHandler(func(_ *natsgo.Conn, _ *natsgo.Subscription, err error) {
			logger.Warn("nats error", slog.Any(keyError, err))
		}),
	}
}

// redactURL hides passwords and tokens in NATS URLs for messages.
func redactURL(urls string) string {
	u, err := url.Parse(urls)
	if err != nil || u.User == nil {
		return urls
	}
	u.User = url.User("REDACTED")
	return u.String()
}

// serverLogger sends nats-server's log lines to slog. Notices are chatty
// start-up banners, so they go to debug. A fatal error is also kept: the
// embedded server logs it instead of exiting, and StartServer reports it.
type serverLogger struct {
	l     *slog.Logger
	fatal *atomic.Pointer[string]
}

func (l serverLogger) Noticef(format string, v ...any) { l.log(slog.LevelDebug, format, v) }
func (l serverLogger) Warnf(format string, v ...any)   { l.log(slog.LevelWarn, format, v) }
func (l serverLogger) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.fatal.CompareAndSwap(nil, &msg)
	l.log(slog.LevelError, format, v)
}
func (l serverLogger) Errorf(format string, v ...any) { l.log(slog.LevelError, format, v) }
func (l serverLogger) Debugf(format string, v ...any) {}
func (l serverLogger) Tracef(format string, v ...any) {}

func (l serverLogger) log(level slog.Level, format string, v []any) {
	if l.l.Enabled(context.Background(), level) {
		l.l.Log(context.Background(), level, "nats server", slog.String(keyDetail, fmt.Sprintf(format, v...)))
	}
}
