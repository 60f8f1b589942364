package campaigns

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/outbox"
)

// Outbox is where Memory writes the messages, and how it counts them.
type Outbox interface {
	Enqueue(ctx context.Context, msgs []outbox.Message) error
	CampaignCounts(ctx context.Context, id int64) ([]outbox.DeliveryCount, error)
}

// Memory keeps campaigns in memory (the embedded default); it is safe for
// concurrent use.
type Memory struct {
	Outbox Outbox
	Now    func() time.Time

	mu        sync.Mutex
	campaigns []*Campaign
	audience  map[int64][]number
}

type number struct {
	phone   string
	queued  bool
	skipped string
	held    string // the operator whose rate held it back
}

func (n number) waiting() bool { return !n.queued && n.skipped == "" }

func (m *Memory) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// CreateCampaign records a campaign, as a draft, with its audience.
func (m *Memory) CreateCampaign(ctx context.Context, c Campaign, numbers []string) (Campaign, error) {
	if err := c.Check(); err != nil {
		return c, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c.ID, c.State, c.Created, c.Paused = int64(len(m.campaigns)+1), Draft, m.now(), ""
	c.Started, c.Finished = time.Time{}, time.Time{}
	m.campaigns = append(m.campaigns, &c)
	if m.audience == nil {
		m.audience = map[int64][]number{}
	}
	seen := map[string]bool{}
	for _, p := range numbers {
		if !seen[p] {
			seen[p] = true
			m.audience[c.ID] = append(m.audience[c.ID], number{phone: p})
		}
	}
	return c, nil
}

func (m *Memory) find(id int64) (*Campaign, error) {
	if id <= 0 || id > int64(len(m.campaigns)) {
		return nil, guichet.Errorf(guichet.ENOTFOUND, "no campaign %d", id)
	}
	return m.campaigns[id-1], nil
}

// Campaign returns campaign id: ENOTFOUND if there is none.
func (m *Memory) Campaign(ctx context.Context, id int64) (Campaign, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.find(id)
	if err != nil {
		return Campaign{}, err
	}
	return *c, nil
}

// Campaigns returns owner's campaigns, the newest first ("*": everyone's).
func (m *Memory) Campaigns(ctx context.Context, owner string) ([]Campaign, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Campaign
	for i := len(m.campaigns) - 1; i >= 0; i-- {
		if c := m.campaigns[i]; owner == "*" || c.Owner == owner {
			out = append(out, *c)
		}
	}
	return out, nil
}

// SetState moves campaign id from one of from to state: ECONFLICT if it
// is in none of them.
func (m *Memory) SetState(ctx context.Context, id int64, from []string, state string, at time.Time) (Campaign, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.setState(id, from, state, "", at)
}

// PauseFor pauses the running campaign id, saying why.
func (m *Memory) PauseFor(ctx context.Context, id int64, reason string, at time.Time) (Campaign, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.setState(id, []string{Running}, Paused, reason, at)
}

func (m *Memory) setState(id int64, from []string, state, reason string, at time.Time) (Campaign, error) {
	c, err := m.find(id)
	if err != nil {
		return Campaign{}, err
	}
	if !slices.Contains(from, c.State) {
		return *c, guichet.Errorf(guichet.ECONFLICT, "campaign %d cannot become %s now", id, state)
	}
	c.State, c.Paused = state, reason
	if state == Running && c.Started.IsZero() {
		c.Started = at
	}
	if state == Done || state == Canceled {
		c.Finished = at
	}
	return *c, nil
}

// Progress counts campaign id's audience and its messages by operator.
func (m *Memory) Progress(ctx context.Context, id int64) (Progress, error) {
	m.mu.Lock()
	p := Progress{Counts: map[string]Row{}}
	for _, n := range m.audience[id] {
		p.Audience++
		switch {
		case n.skipped != "":
			p.Skipped++
		case !n.queued:
			p.Waiting++
		}
	}
	m.mu.Unlock()
	counts, err := m.Outbox.CampaignCounts(ctx, id)
	if err != nil {
		return p, err
	}
	for _, c := range counts {
		Count(p.Counts, c.Bind, c.Status, c.N)
	}
	return p, nil
}

// QueueNext settles up to n waiting numbers of the running campaign id,
// those held for an operator of held first, and returns how many still
// wait (see Store).
func (m *Memory) QueueNext(ctx context.Context, id int64, n int, held map[string]int, compose Compose) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.find(id)
	if err != nil {
		return 0, err
	}
	if c.State != Running {
		return 1, nil
	}
	aud := m.audience[id]
	// Those held for an operator that may send now, then the others.
	var order []int
	took := map[string]int{}
	for i, x := range aud {
		if x.waiting() && x.held != "" && took[x.held] < held[x.held] {
			took[x.held]++
			order = append(order, i)
		}
	}
	for i, x := range aud {
		if x.waiting() && x.held == "" {
			order = append(order, i)
		}
	}
	page, settled := max(n, Page), 0
	for start := 0; start < len(order) && start < MaxScan && settled < n; start += page {
		idx := order[start:min(start+page, len(order))]
		phones := make([]string, len(idx))
		for k, i := range idx {
			phones[k] = aud[i].phone
		}
		qs, err := compose(ctx, phones)
		if err != nil {
			return 0, err
		}
		var msgs []outbox.Message
		full := false
		for _, q := range qs {
			if q.Later {
				full = full || q.Operator == ""
			} else if q.Skip == "" {
				msgs = append(msgs, outbox.Message{Phone: q.Phone, Lang: q.Lang, Body: q.Body, Kind: Kind, Bulk: true,
					Owner: c.Owner, Campaign: id, Created: m.now(), Status: outbox.MessagePending})
			}
		}
		if err := m.Outbox.Enqueue(ctx, msgs); err != nil {
			return 0, err
		}
		for k, i := range idx {
			switch q := qs[k]; {
			case q.Later:
				if q.Operator != "" {
					aud[i].held = q.Operator
				}
			case q.Skip != "":
				aud[i].skipped = q.Skip
				settled++
			default:
				aud[i].queued = true
				settled++
			}
		}
		if full {
			break
		}
	}
	left := 0
	for _, x := range aud {
		if x.waiting() {
			left++
		}
	}
	return left, nil
}
