// Command hanout-ferretdb runs FerretDB v1 on SQLite files: a second MongoDB-compatible store for
// Hanout's tests. The embeddable package is used because `go install .../cmd/ferretdb` builds a
// binary that panics at start (its generated version file is missing from the module).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	host := flag.String("host", "127.0.0.1", "address to listen on")
	port := flag.Int("port", 0, "TCP port to listen on (required)")
	dataDir := flag.String("data-dir", "", "directory of the SQLite files, created if missing (required)")
	logLevel := flag.String("log-level", "info", "debug, info, warn or error")
	flag.Parse()

	if err := run(*host, *port, *dataDir, *logLevel); err != nil {
		fmt.Fprintf(os.Stderr, "hanout-ferretdb: %s\n", err)
		os.Exit(1)
	}
}

func run(host string, port int, dataDir, logLevel string) error {
	if port <= 0 || port > 65535 {
		return fmt.Errorf("-port must be between 1 and 65535, got %d", port)
	}
	if dataDir == "" {
		return fmt.Errorf("-data-dir is required")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	sqliteURL, err := sqliteURL(dataDir)
	if err != nil {
		return err
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	// FerretDB itself listens on a private Unix socket; clients reach it through the front.
	socketDir, err := os.MkdirTemp("", "hanout-ferretdb-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(socketDir)
	socket := filepath.Join(socketDir, "ferretdb.sock")
	// The embeddable package starts no debug or metrics server, so no fixed port is taken.
	db, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{Unix: socket},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		return err
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	logger.Info("hanout-ferretdb listening", "addr", addr, "sqlite", sqliteURL)
	served := make(chan error, 1)
	go func() { served <- (&front{upstream: socket, logger: logger}).serve(ctx, ln) }()
	// Run returns once the context is cancelled and every connection and the SQLite files are closed.
	if err := db.Run(ctx); err != nil {
		return err
	}
	stop()
	if err := <-served; err != nil {
		return err
	}
	logger.Info("hanout-ferretdb stopped")
	return nil
}

// sqliteURL makes the directory and returns it as the "file:<dir>/" URI the SQLite handler wants.
func sqliteURL(dataDir string) (string, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", err
	}
	return (&url.URL{Scheme: "file", Path: abs + "/"}).String(), nil
}
