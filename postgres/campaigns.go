package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/campaigns"
	"github.com/guichet/guichet/outbox"
)

const campaignColumns = `id, owner, name, text_fr, text_en, window_from, window_to, rate, state, made_by, created, started, finished, rates, key_id, paused_because`

func scanCampaign(row pgx.CollectableRow) (campaigns.Campaign, error) {
	var c campaigns.Campaign
	var fr, en string
	var from, to int16
	var rate float32
	var started, finished *time.Time
	err := row.Scan(&c.ID, &c.Owner, &c.Name, &fr, &en, &from, &to, &rate, &c.State, &c.By, &c.Created, &started, &finished, &c.Rates, &c.Key, &c.Paused)
	c.Text = map[string]string{}
	if fr != "" {
		c.Text["fr"] = fr
	}
	if en != "" {
		c.Text["en"] = en
	}
	c.From, c.To, c.Rate = int(from), int(to), float64(rate)
	if started != nil {
		c.Started = *started
	}
	if finished != nil {
		c.Finished = *finished
	}
	return c, err
}

// CreateCampaign records a campaign, as a draft, with its audience (each
// number once, in order).
func (s *Campaigns) CreateCampaign(ctx context.Context, c campaigns.Campaign, numbers []string) (campaigns.Campaign, error) {
	if err := c.Check(); err != nil {
		return c, err
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return c, fail(ctx, "creating a campaign", err)
	}
	defer tx.Rollback(ctx)
	rates := c.Rates
	if rates == nil {
		rates = map[string]float64{}
	}
	rows, _ := tx.Query(ctx, `INSERT INTO campaigns (owner, name, text_fr, text_en, window_from, window_to, rate, made_by, created, rates, key_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING `+campaignColumns,
		c.Owner, c.Name, c.Text["fr"], c.Text["en"], c.From, c.To, c.Rate, c.By, s.now(), rates, c.Key)
	made, err := pgx.CollectExactlyOneRow(rows, scanCampaign)
	if err != nil {
		return c, fail(ctx, "creating a campaign", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO campaign_numbers (campaign_id, phone, n)
		SELECT $1, p, n FROM unnest($2::text[]) WITH ORDINALITY AS u(p, n) ON CONFLICT DO NOTHING`, made.ID, numbers); err != nil {
		return c, fail(ctx, "creating a campaign's audience", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return c, fail(ctx, "creating a campaign", err)
	}
	return made, nil
}

// Campaign returns campaign id: ENOTFOUND if there is none.
func (s *Campaigns) Campaign(ctx context.Context, id int64) (campaigns.Campaign, error) {
	rows, _ := s.q().Query(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE id = $1`, id)
	c, err := pgx.CollectExactlyOneRow(rows, scanCampaign)
	if notFound(err) {
		return c, fail(ctx, "reading a campaign", guichet.Errorf(guichet.ENOTFOUND, "no campaign %d", id))
	}
	if err != nil {
		return c, fail(ctx, "reading a campaign", err)
	}
	return c, nil
}

// Campaigns returns owner's campaigns, the newest first ("*": everyone's).
func (s *Campaigns) Campaigns(ctx context.Context, owner string) ([]campaigns.Campaign, error) {
	rows, _ := s.q().Query(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE $1 = '*' OR owner = $1 ORDER BY id DESC LIMIT 500`, owner)
	cs, err := pgx.CollectRows(rows, scanCampaign)
	if err != nil {
		return nil, fail(ctx, "listing campaigns", err)
	}
	return cs, nil
}

// SetState moves campaign id from one of states from to state, dating its
// start or its end: ECONFLICT if it is in none of them.
func (s *Campaigns) SetState(ctx context.Context, id int64, from []string, state string, at time.Time) (campaigns.Campaign, error) {
	return s.setState(ctx, id, from, state, "", at)
}

// PauseFor pauses the running campaign id, saying why: ECONFLICT if it is
// not running.
func (s *Campaigns) PauseFor(ctx context.Context, id int64, reason string, at time.Time) (campaigns.Campaign, error) {
	return s.setState(ctx, id, []string{campaigns.Running}, campaigns.Paused, reason, at)
}

func (s *Campaigns) setState(ctx context.Context, id int64, from []string, state, reason string, at time.Time) (campaigns.Campaign, error) {
	rows, _ := s.q().Query(ctx, `UPDATE campaigns SET state = $3, paused_because = $5,
			started = CASE WHEN $3 = 'running' THEN coalesce(started, $4) ELSE started END,
			finished = CASE WHEN $3 IN ('done', 'canceled') THEN $4 ELSE finished END
		WHERE id = $1 AND state = ANY($2) RETURNING `+campaignColumns, id, from, state, at, reason)
	c, err := pgx.CollectExactlyOneRow(rows, scanCampaign)
	if notFound(err) {
		if _, err := s.Campaign(ctx, id); err != nil {
			return c, err
		}
		return c, fail(ctx, "changing a campaign", guichet.Errorf(guichet.ECONFLICT, "campaign %d cannot become %s now", id, state))
	}
	if err != nil {
		return c, fail(ctx, "changing a campaign", err)
	}
	return c, nil
}

// Progress counts campaign id's audience and its messages by operator.
func (s *Campaigns) Progress(ctx context.Context, id int64) (campaigns.Progress, error) {
	p := campaigns.Progress{Counts: map[string]campaigns.Row{}}
	if err := s.q().QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE message_id IS NULL AND skipped = ''),
			count(*) FILTER (WHERE skipped NOT IN ('', $2)) FROM campaign_numbers WHERE campaign_id = $1`, id, campaigns.Erased).Scan(&p.Audience, &p.Waiting, &p.Skipped); err != nil {
		return p, fail(ctx, "counting a campaign", err)
	}
	rows, _ := s.q().Query(ctx, `SELECT o.bind, `+queuedStatus+`, count(*) FROM outbox o WHERE o.campaign = $1 GROUP BY 1, 2`, id)
	counts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[outbox.DeliveryCount])
	if err != nil {
		return p, fail(ctx, "counting a campaign", err)
	}
	for _, c := range counts {
		campaigns.Count(p.Counts, c.Bind, c.Status, c.N)
	}
	return p, nil
}

// QueueNext settles up to n waiting numbers of the running campaign id,
// those held for an operator of held first, then the others a page at a
// time in their order, in one transaction (see campaigns.Store); numbers
// that another gateway is queueing are left to it. It returns how many
// wait.
func (s *Campaigns) QueueNext(ctx context.Context, id int64, n int, held map[string]int, compose campaigns.Compose) (int, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return 0, fail(ctx, "queueing a campaign", err)
	}
	defer tx.Rollback(ctx)
	var c campaigns.Campaign
	rows, _ := tx.Query(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE id = $1 FOR SHARE`, id)
	if c, err = pgx.CollectExactlyOneRow(rows, scanCampaign); err != nil {
		return 0, fail(ctx, "queueing a campaign", err)
	}
	if c.State != campaigns.Running {
		return 1, nil // paused or cancelled meanwhile: nothing now
	}
	var ops []string
	var takes []int32
	for op, k := range held {
		ops, takes = append(ops, op), append(takes, int32(k))
	}
	// Those held for an operator that may send now, in their order.
	rows, _ = tx.Query(ctx, `SELECT x.phone FROM unnest($2::text[], $3::int[]) AS o(op, k) CROSS JOIN LATERAL (
			SELECT phone, n FROM campaign_numbers WHERE campaign_id = $1 AND held = o.op AND message_id IS NULL AND skipped = ''
			ORDER BY n LIMIT o.k FOR UPDATE SKIP LOCKED) x ORDER BY x.n`, id, ops, takes)
	phones, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fail(ctx, "queueing a campaign", err)
	}
	page, settled, after, scanned := max(n, campaigns.Page), 0, int64(0), 0
	type phoneN struct {
		Phone string
		N     int64
	}
	for settled < n && scanned < campaigns.MaxScan {
		// Then the others, from where the last page ended.
		var fresh []phoneN
		want := page - len(phones)
		if want > 0 {
			rows, _ := tx.Query(ctx, `SELECT phone, n FROM campaign_numbers
				WHERE campaign_id = $1 AND held IS NULL AND message_id IS NULL AND skipped = '' AND n > $2
				ORDER BY n LIMIT $3 FOR UPDATE SKIP LOCKED`, id, after, want)
			if fresh, err = pgx.CollectRows(rows, pgx.RowToStructByPos[phoneN]); err != nil {
				return 0, fail(ctx, "queueing a campaign", err)
			}
		}
		for _, f := range fresh {
			phones, after = append(phones, f.Phone), f.N
		}
		if len(phones) == 0 {
			break
		}
		k, full, err := s.settle(ctx, tx, c, phones, compose)
		if err != nil {
			return 0, err
		}
		settled, scanned = settled+k, scanned+len(phones)
		if full || len(fresh) < want {
			break // the step's share is full, or no one else waits
		}
		phones = phones[:0]
	}
	var left int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM campaign_numbers WHERE campaign_id = $1 AND message_id IS NULL AND skipped = ''`, id).Scan(&left); err != nil {
		return 0, fail(ctx, "queueing a campaign", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fail(ctx, "queueing a campaign", err)
	}
	return left, nil
}

// settle asks compose about a page of campaign c's numbers and does what
// it says in tx: messages written to the outbox, numbers marked queued,
// skipped or held for their operator. It returns how many were queued or
// skipped, and whether compose said the step's share is full.
func (s *Campaigns) settle(ctx context.Context, tx pgx.Tx, c campaigns.Campaign, phones []string, compose campaigns.Compose) (int, bool, error) {
	qs, err := compose(ctx, phones)
	if err != nil {
		return 0, false, err
	}
	var msgs []outbox.Message
	var skipTo, skipWhy, holdTo, holdFor []string
	full, settled := false, 0
	now := s.now()
	for _, q := range qs {
		switch {
		case q.Later && q.Operator != "":
			holdTo, holdFor = append(holdTo, q.Phone), append(holdFor, q.Operator)
		case q.Later:
			full = true // the next step
		case q.Skip != "":
			skipTo, skipWhy = append(skipTo, q.Phone), append(skipWhy, q.Skip)
			settled++
		default:
			msgs = append(msgs, outbox.Message{Phone: q.Phone, Lang: q.Lang, Body: q.Body, Kind: campaigns.Kind, Bulk: true,
				Owner: c.Owner, Campaign: c.ID, Created: now, Status: outbox.MessagePending})
			settled++
		}
	}
	ready, err := outbox.Prepare(msgs, now)
	if err != nil {
		return 0, false, fail(ctx, "queueing a campaign", err)
	}
	if len(ready) > 0 {
		rows, _ := tx.Query(ctx, insertMessages+` RETURNING id, phone`, messageArgs(ready)...)
		type idPhone struct {
			ID    int64
			Phone string
		}
		got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[idPhone])
		if err != nil {
			return 0, false, fail(ctx, "queueing a campaign", err)
		}
		ids, to := make([]int64, len(got)), make([]string, len(got))
		for i, g := range got {
			ids[i], to[i] = g.ID, g.Phone
		}
		if _, err := tx.Exec(ctx, `UPDATE campaign_numbers c SET message_id = u.id
			FROM unnest($2::text[], $3::bigint[]) AS u(phone, id) WHERE c.campaign_id = $1 AND c.phone = u.phone`, c.ID, to, ids); err != nil {
			return 0, false, fail(ctx, "queueing a campaign", err)
		}
	}
	for _, mark := range []struct {
		column     string
		to, values []string
	}{{"skipped", skipTo, skipWhy}, {"held", holdTo, holdFor}} {
		if len(mark.to) == 0 {
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE campaign_numbers c SET `+mark.column+` = u.v
			FROM unnest($2::text[], $3::text[]) AS u(phone, v) WHERE c.campaign_id = $1 AND c.phone = u.phone`, c.ID, mark.to, mark.values); err != nil {
			return 0, false, fail(ctx, "queueing a campaign", err)
		}
	}
	return settled, full, nil
}
