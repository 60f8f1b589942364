package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Probe tells whether PostgreSQL answers, on a connection of its own
// outside the pool: with every pool connection at work (a campaign being
// queued), a ping through the pool waits for one, and a readiness probe
// would then call a busy gateway down, all of a fleet's at once. It costs
// one more server connection per gateway (application_name
// guichet-probe).
type Probe struct {
	cfg  *pgx.ConnConfig
	turn chan struct{} // one ping at a time, as long as its context lets it wait
	conn *pgx.Conn
}

// NewProbe makes a probe of the pool's database; it connects on its first
// Ping.
func NewProbe(pool *pgxpool.Pool) *Probe {
	cfg := pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = "guichet-probe"
	return &Probe{cfg: cfg, turn: make(chan struct{}, 1)}
}

// Ping checks that the database answers within ctx: on the probe's
// connection, or on a new one when that one was lost (a server restart, a
// proxy that closed it).
func (p *Probe) Ping(ctx context.Context) error {
	select {
	case p.turn <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("pinging PostgreSQL: %w", ctx.Err())
	}
	defer func() { <-p.turn }()
	if p.conn != nil {
		if err := p.conn.Ping(ctx); err == nil {
			return nil
		}
		p.drop()
		if ctx.Err() != nil {
			return fmt.Errorf("pinging PostgreSQL: %w", ctx.Err())
		}
	}
	conn, err := pgx.ConnectConfig(ctx, p.cfg)
	if err != nil {
		return fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close(context.Background())
		return fmt.Errorf("pinging PostgreSQL: %w", err)
	}
	p.conn = conn
	return nil
}

// Close closes the probe's connection.
func (p *Probe) Close() {
	p.turn <- struct{}{}
	defer func() { <-p.turn }()
	p.drop()
}

func (p *Probe) drop() {
	if p.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	p.conn.Close(ctx)
	p.conn = nil
}
