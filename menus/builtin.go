package menus

import (
	"embed"
)

//go:embed catalogue/*.yaml
var builtin embed.FS

// Builtin loads the catalogue embedded in the binary.
func Builtin() (*Catalogue, error) {
	return Load(builtin, "catalogue")
}
