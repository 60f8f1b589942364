package guichet

// Pages of lists: cases, messages, callbacks.
const (
	DefaultPage = 50
	MaxPage     = 500
)

// PageSize returns the size of a page that asks for limit: DefaultPage
// for 0 (or less), at most MaxPage.
func PageSize(limit int) int {
	switch {
	case limit <= 0:
		return DefaultPage
	case limit > MaxPage:
		return MaxPage
	}
	return limit
}
