package staff

import "time"

// Sign-in failures slow down the next attempts on what they were made
// against, a key: an account's name (known or not: an unknown name is
// slowed down as a known one, so that neither tells which exists), the
// address they came from. There is no lock that anyone could set on
// someone else's account: a key's attempts wait longer and longer, up to
// its Backoff's Max.

// Backoff is how failures on one key slow its next attempts.
type Backoff struct {
	Free   int           // failures in a row let through without waiting (0 counts as 1)
	First  time.Duration // the wait after the Free-th, doubled after each further one
	Max    time.Duration // the longest wait
	Forget time.Duration // a key's failures are forgotten this long after its latest (more than Max)
}

// Delay is how long the next attempt waits after failures in a row.
func (b Backoff) Delay(failures int) time.Duration {
	free := max(b.Free, 1)
	if failures < free || b.First <= 0 {
		return 0
	}
	d := b.First
	for i := free; i < failures && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Strike is a key an attempt counts against, and how.
type Strike struct {
	Key     string
	Backoff Backoff
	// Shared keys are many people's (an address behind which an office
	// sits): a success takes back only its own attempt. A success
	// forgets the other keys' failures.
	Shared bool
}

// Verdict is what Attempt decided.
type Verdict struct {
	// OK: no key was waiting, and the attempt was counted against each
	// as a failure, until Succeeded takes it back.
	OK bool
	// Until, when not OK, is when the keys that refused let an attempt
	// through; Waiting are those keys.
	Until   time.Time
	Waiting []string
	// Failures are each key's failures in a row, this attempt included
	// when OK.
	Failures map[string]int
}

// WaitUntil is when a key whose latest failure was at last waits until,
// for a delay: the zero time for none, so that a gateway whose clock is
// behind another's does not make attempts wait that should not.
func WaitUntil(last time.Time, delay time.Duration) time.Time {
	if delay <= 0 {
		return time.Time{}
	}
	return last.Add(delay)
}
