package sessions

// Internals exposed to the external tests (package sessions_test).
const (
	ShardCount  = shardCount
	SweepMin    = sweepMin
	MaxAttempts = maxAttempts
)

// MemorySize returns the number of entries m holds, expired or not.
func MemorySize(m *Memory) int { return m.size() }

// size returns the number of entries held, expired or not (for tests).
func (m *Memory) size() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.entries)
		s.mu.Unlock()
	}
	return n
}
