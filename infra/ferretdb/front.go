package main

// FerretDB v1's SQLite handler runs an update (and findAndModify) as a query, then a write of the
// documents it found by _id, without checking the filter again. Two concurrent `$inc`s therefore
// lose one, and two compare-and-set updates on a version both "win" (measured: 40 concurrent
// `$inc`s left 7). MongoDB and SecantusDB apply every single-document write atomically, and the
// services rely on that (order numbers, optimistic versions, counters). The front below forwards
// the wire protocol unchanged and lets one write command run at a time; reads are never held.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

const (
	opMsg       = 2013
	opQuery     = 2004
	moreToCome  = 1 << 1
	headerSize  = 16
	maxMessage  = 48 << 20 // MongoDB's maxMessageSizeBytes
	dialTimeout = 10 * time.Second
)

// reads are the commands that change nothing; any other command waits for the write lock.
var reads = map[string]bool{
	"find": true, "getMore": true, "aggregate": true, "count": true, "distinct": true,
	"listCollections": true, "listIndexes": true, "listDatabases": true, "hello": true,
	"isMaster": true, "ismaster": true, "ping": true, "buildInfo": true, "buildinfo": true,
	"killCursors": true, "endSessions": true, "explain": true, "dbStats": true, "collStats": true,
	"dataSize": true, "serverStatus": true, "hostInfo": true, "whatsmyuri": true,
	"getParameter": true, "getCmdLineOpts": true, "getLog": true, "connectionStatus": true,
	"saslStart": true, "saslContinue": true, "listCommands": true, "currentOp": true,
	"validate": true, "getFreeMonitoringStatus": true,
}

type front struct {
	upstream string // FerretDB's own Unix socket
	logger   *slog.Logger
	writes   sync.Mutex
}

// serve accepts clients until ctx is cancelled.
func (f *front) serve(ctx context.Context, ln net.Listener) error {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		client, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go f.relay(ctx, client)
	}
}

// relay carries one client connection: each request to FerretDB, then its replies back.
func (f *front) relay(ctx context.Context, client net.Conn) {
	defer client.Close()
	server, err := f.dial(ctx)
	if err != nil {
		f.logger.Warn("front: FerretDB not reachable", "error", err)
		return
	}
	defer server.Close()
	for {
		request, err := readMessage(client)
		if err != nil {
			return
		}
		if err := f.exchange(request, client, server); err != nil {
			if !errors.Is(err, io.EOF) {
				f.logger.Debug("front: connection ended", "error", err)
			}
			return
		}
	}
}

// exchange forwards one request and the replies it asks for, under the write lock if it writes.
func (f *front) exchange(request []byte, client, server net.Conn) error {
	if writes(request) {
		f.writes.Lock()
		defer f.writes.Unlock()
	}
	if _, err := server.Write(request); err != nil {
		return err
	}
	expectsReply := !(opCode(request) == opMsg && flags(request)&moreToCome != 0)
	for expectsReply {
		reply, err := readMessage(server)
		if err != nil {
			return err
		}
		if _, err := client.Write(reply); err != nil {
			return err
		}
		// A reply flagged moreToCome is followed by another one (exhaust cursors).
		expectsReply = opCode(reply) == opMsg && flags(reply)&moreToCome != 0
	}
	return nil
}

// dial connects to FerretDB, waiting for its socket while it starts.
func (f *front) dial(ctx context.Context) (net.Conn, error) {
	deadline := time.Now().Add(dialTimeout)
	for {
		conn, err := net.Dial("unix", f.upstream)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return conn, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readMessage(r io.Reader) ([]byte, error) {
	header := make([]byte, headerSize)
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, err
	}
	size := int(int32(binary.LittleEndian.Uint32(header)))
	if size < headerSize || size > maxMessage {
		return nil, fmt.Errorf("message of %d bytes", size)
	}
	message := make([]byte, size)
	copy(message, header)
	if _, err := io.ReadFull(r, message[headerSize:]); err != nil {
		return nil, err
	}
	return message, nil
}

func opCode(message []byte) int32 {
	return int32(binary.LittleEndian.Uint32(message[12:16]))
}

func flags(message []byte) uint32 {
	if len(message) < headerSize+4 {
		return 0
	}
	return binary.LittleEndian.Uint32(message[headerSize : headerSize+4])
}

// writes tells whether a request may change data: an OP_MSG whose command is not a known read,
// or any other opcode but OP_QUERY (only the legacy handshake uses it).
func writes(request []byte) bool {
	switch opCode(request) {
	case opQuery:
		return false
	case opMsg:
		name, ok := commandName(request)
		return !ok || !reads[name]
	default:
		return true
	}
}

// commandName is the first key of the OP_MSG body (the kind 0 section).
func commandName(message []byte) (string, bool) {
	at := headerSize + 4
	for at < len(message) {
		kind := message[at]
		at++
		if at+4 > len(message) {
			return "", false
		}
		size := int(int32(binary.LittleEndian.Uint32(message[at : at+4])))
		if kind == 0 {
			// int32 document size, then the first element: a type byte and a NUL-ended key.
			start := at + 5
			for end := start; end < len(message) && end < at+size; end++ {
				if message[end] == 0 {
					return string(message[start:end]), true
				}
			}
			return "", false
		}
		if size < 4 {
			return "", false
		}
		at += size // a kind 1 document sequence: its size counts itself
	}
	return "", false
}
