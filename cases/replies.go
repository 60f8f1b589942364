package cases

import (
	"context"

	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
)

// Replies are what answering a citizen's SMS writes: an opt-out (STOP,
// START) and the reply, through the outbox.
type Replies interface {
	SetOptOut(ctx context.Context, phone string, out bool) error
	Enqueue(ctx context.Context, msgs []outbox.Message) error
}

// AnswerOnce runs do once per key for Keep: an SMS that the SMSC delivers
// twice (our acknowledgement was lost) is acted on and answered once. It
// reports whether do ran. Calls with the same key run one at a time; a
// failure is not remembered, so the SMSC's next delivery runs do again.
func (m *Memory) AnswerOnce(ctx context.Context, key string, do func(ctx context.Context, w Replies) error) (bool, error) {
	ran := false
	_, err := m.Once(ctx, AnswerOp, key, func(ctx context.Context, _ Store) (menus.Result, error) {
		ran = true
		return menus.Result{}, do(ctx, memoryReplies{m})
	})
	return ran, err
}

// AnswerOp is the operation under which AnswerOnce remembers its keys, in
// every store.
const AnswerOp = "sms.in"

type memoryReplies struct{ m *Memory }

func (r memoryReplies) SetOptOut(ctx context.Context, phone string, out bool) error {
	return r.m.SetOptOut(ctx, phone, out)
}

func (r memoryReplies) Enqueue(ctx context.Context, msgs []outbox.Message) error {
	return r.m.outbox.Enqueue(ctx, msgs)
}
