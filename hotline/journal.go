package hotline

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/guichet/guichet/staff"
	"github.com/guichet/guichet/ussd"
)

// Recorder is where a Journal writes: a Trail.
type Recorder interface {
	RecordSessions(ctx context.Context, rs []staff.SessionRecord) error
}

// Journal records how USSD sessions end, for the caller page and the
// dashboard. It is a ussd.Recorder: Ended never waits for the store (a hop
// must not), records are written in batches by a goroutine, and when the
// store falls behind by more than the buffer the extra records are dropped
// and counted.
type Journal struct {
	store   Recorder
	next    ussd.Recorder // the metrics, told first
	log     *slog.Logger
	ch      chan staff.SessionRecord
	done    chan struct{}
	dropped atomic.Uint64
	mu      sync.RWMutex // Ended holds it to read, Close to write
	closed  bool
	now     func() time.Time
}

// NewJournal starts a journal writing to store; next, if not nil, is told
// every event too.
func NewJournal(store Recorder, next ussd.Recorder, now func() time.Time, log *slog.Logger) *Journal {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	j := &Journal{store: store, next: next, log: log, ch: make(chan staff.SessionRecord, 4096), done: make(chan struct{}), now: now}
	go j.run()
	return j
}

// Started implements ussd.Recorder.
func (j *Journal) Started(ctx context.Context, service, operator string) {
	if j.next != nil {
		j.next.Started(ctx, service, operator)
	}
}

// Ended implements ussd.Recorder.
func (j *Journal) Ended(ctx context.Context, o ussd.Outcome) {
	if j.next != nil {
		j.next.Ended(ctx, o)
	}
	rec := staff.SessionRecord{At: j.now(), Phone: o.Phone, Operator: o.Operator, Service: o.Service, Node: o.Node,
		Result: o.Result, Hops: o.Hops, Duration: o.Duration}
	j.mu.RLock()
	defer j.mu.RUnlock()
	if j.closed { // a hop that outlived the shutdown: counted, not written
		j.dropped.Add(1)
		return
	}
	select {
	case j.ch <- rec:
	default:
		j.dropped.Add(1)
	}
}

// Dropped counts records lost because the store fell behind.
func (j *Journal) Dropped() uint64 { return j.dropped.Load() }

func (j *Journal) run() {
	defer close(j.done)
	batch := make([]staff.SessionRecord, 0, 256)
	for rec := range j.ch {
		batch = append(batch[:0], rec)
	more:
		for len(batch) < cap(batch) {
			select {
			case r, ok := <-j.ch:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := j.store.RecordSessions(ctx, batch); err != nil {
			j.dropped.Add(uint64(len(batch)))
			j.log.Warn("recording ended sessions", "n", len(batch), "err", err)
		}
		cancel()
	}
}

// Close writes what is buffered and stops; later Ended calls are dropped
// and counted.
func (j *Journal) Close() {
	j.mu.Lock()
	if !j.closed {
		j.closed = true
		close(j.ch)
	}
	j.mu.Unlock()
	<-j.done
}
