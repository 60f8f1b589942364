package sms

import (
	"strings"
	"sync"
	"time"
)

// Defaults of NewReassembler.
const (
	DefaultTimeout    = 10 * time.Minute
	DefaultMaxPending = 1000
)

// Reassembler joins the parts of inbound concatenated messages. Parts are
// grouped by sender, reference and total; a set still incomplete after the
// timeout is dropped, and when MaxPending sets are waiting the oldest is
// dropped to make room, so that memory stays bounded whatever senders do.
// It is safe for concurrent use.
type Reassembler struct {
	now     func() time.Time
	timeout time.Duration
	max     int

	mu   sync.Mutex
	sets map[setKey]*partSet
}

type setKey struct {
	source string
	ref    uint16
	total  byte
}

type partSet struct {
	started time.Time
	codings []byte
	bodies  [][]byte // nil until the part arrives
	got     int
}

// NewReassembler returns a Reassembler that drops sets older than timeout
// (DefaultTimeout if not positive) and keeps at most maxPending sets
// (DefaultMaxPending if not positive), reading the time from now (time.Now
// if nil).
func NewReassembler(timeout time.Duration, maxPending int, now func() time.Time) *Reassembler {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if maxPending <= 0 {
		maxPending = DefaultMaxPending
	}
	if now == nil {
		now = time.Now
	}
	return &Reassembler{now: now, timeout: timeout, max: maxPending, sets: map[setKey]*partSet{}}
}

// Add takes one inbound short_message from source, as Decode would, and
// returns the whole text with complete true once every part of its message
// has arrived (at once for a message without concatenation header). A part
// already received is ignored. The parts are joined before decoding, so that
// a sender who split an escape sequence or a surrogate pair across parts is
// still read right. A malformed part gives Decode's error and leaves its set
// as it was; a set whose joined text does not decode is dropped with the
// error.
func (r *Reassembler) Add(source string, dataCoding, esmClass byte, payload []byte) (text string, complete bool, err error) {
	c, body, err := splitUDH(esmClass, payload)
	if err != nil {
		return "", false, err
	}
	if c == nil || c.Total == 1 {
		text, err := decodeBody(dataCoding, body)
		return text, err == nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	r.expire(now)
	k := setKey{source, c.Ref, c.Total}
	s := r.sets[k]
	if s == nil {
		if len(r.sets) >= r.max {
			r.dropOldest()
		}
		s = &partSet{started: now, codings: make([]byte, c.Total), bodies: make([][]byte, c.Total)}
		r.sets[k] = s
	}
	i := c.Seq - 1
	if s.bodies[i] != nil {
		return "", false, nil
	}
	s.codings[i], s.bodies[i] = dataCoding, append([]byte{}, body...)
	s.got++
	if s.got < len(s.bodies) {
		return "", false, nil
	}
	delete(r.sets, k)
	text, err = s.decode()
	return text, err == nil, err
}

// expire drops the sets started before now minus the timeout.
func (r *Reassembler) expire(now time.Time) {
	for k, s := range r.sets {
		if now.Sub(s.started) >= r.timeout {
			delete(r.sets, k)
		}
	}
}

func (r *Reassembler) dropOldest() {
	var oldest setKey
	var at time.Time
	first := true
	for k, s := range r.sets {
		if first || s.started.Before(at) {
			oldest, at, first = k, s.started, false
		}
	}
	delete(r.sets, oldest)
}

// decode joins the bodies and decodes them, part by part when the parts do
// not share a data coding.
func (s *partSet) decode() (string, error) {
	same := true
	for _, c := range s.codings {
		same = same && c == s.codings[0]
	}
	if same {
		var all []byte
		for _, b := range s.bodies {
			all = append(all, b...)
		}
		return decodeBody(s.codings[0], all)
	}
	var b strings.Builder
	for i, body := range s.bodies {
		t, err := decodeBody(s.codings[i], body)
		if err != nil {
			return "", err
		}
		b.WriteString(t)
	}
	return b.String(), nil
}
