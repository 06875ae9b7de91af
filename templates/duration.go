package templates

import (
	"time"

	"newsletter/i18n"
)

// HumanDuration says d in whole days, hours or minutes, as a reader of
// English would; i18n.Lang.Duration says it in other languages.
func HumanDuration(d time.Duration) string {
	return i18n.English.Duration(d)
}
