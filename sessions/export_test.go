package sessions

// Internals exposed to the external tests (package sessions_test).
const (
	ShardCount  = shardCount
	SweepMin    = sweepMin
	MaxAttempts = maxAttempts
)

// MemorySize returns the number of entries m holds, expired or not.
func MemorySize(m *Memory) int { return m.size() }
