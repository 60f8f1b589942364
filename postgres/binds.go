package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
)

// BindHold gives the gateways of a fleet the right to each bind of an
// operator, one gateway at a time: a session-level advisory lock, named
// after the operator, the bind's mode and index, held on a connection of
// its own for as long as the bind may be up. A gateway that dies closes
// that connection, and PostgreSQL frees the lock at once; the others look
// again every second or so, and the first to take it binds.
//
// It is an smpp.Hold; the type is spelt out so that the store needs no
// SMPP.
func (db *DB) BindHold(operator, mode string) func(ctx context.Context, index int) (lost <-chan struct{}, release func(), err error) {
	return func(ctx context.Context, index int) (<-chan struct{}, func(), error) {
		key := fmt.Sprintf("smpp-bind:%s:%s:%d", operator, mode, index)
		// One connection asks until the lock is ours, and then holds it:
		// a standby gateway does not dial PostgreSQL again each time it
		// looks.
		var conn *pgx.Conn
		for {
			if conn == nil {
				c, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig)
				if err != nil {
					return nil, nil, fmt.Errorf("postgres: connecting to hold bind %s: %w", key, err)
				}
				conn = c
			}
			var held bool
			err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, key).Scan(&held)
			if err == nil && held {
				return watch(conn, key)
			}
			if err != nil {
				conn.Close(context.Background())
				if ctx.Err() != nil {
					return nil, nil, ctx.Err()
				}
				return nil, nil, fmt.Errorf("postgres: taking bind %s: %w", key, err)
			}
			t := time.NewTimer(time.Second/2 + rand.N(time.Second)) // another gateway holds it: look again
			select {
			case <-ctx.Done():
				t.Stop()
				conn.Close(context.Background())
				return nil, nil, ctx.Err()
			case <-t.C:
			}
		}
	}
}

// watch pings the lock's connection every second: if it fails, the lock
// may be gone, and lost is closed so that the bind goes down before
// another gateway takes it. release unlocks and closes the connection.
func watch(conn *pgx.Conn, key string) (<-chan struct{}, func(), error) {
	lost, stop, stopped := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				err := conn.Ping(ctx)
				cancel()
				if err != nil {
					close(lost)
					return
				}
			}
		}
	}()
	release := func() {
		close(stop)
		<-stopped
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		conn.Exec(ctx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, key)
		conn.Close(ctx)
	}
	return lost, release, nil
}
