// Package limits holds the one bound on a value kcurl holds in memory (an
// object of a list, a watch event, the whole answer a jq filter takes, one
// YAML document), shared by the protocol client (pkg/apiclient: a watch
// event) and the printers (pkg/output), so that neither imports the other.
package limits

import (
	"fmt"
	"sync/atomic"

	"github.com/kcurl/kcurl/pkg/exitcode"
)

// maxDefaultMaxValue is the default bound on one value held in memory (an
// object of a list, a watch event, the whole answer a jq filter takes, one
// YAML document) where memory allows it (DefaultMaxValue): far above any
// real object (etcd stores at most 1.5 MiB of one), far below what would
// crash kcurl out of memory. --max-value or KCURL_MAX_VALUE sets another.
const maxDefaultMaxValue = 256 << 20

var maxValue atomic.Int64

// MaxValue is the bound on one value held in memory, in bytes of JSON.
func MaxValue() int64 {
	if n := maxValue.Load(); n > 0 {
		return n
	}
	return DefaultMaxValue()
}

// SetMaxValue sets MaxValue (--max-value, KCURL_MAX_VALUE); 0 restores the
// default.
func SetMaxValue(n int64) { maxValue.Store(n) }

// ValueTooLargeError is one value larger than MaxValue: exit 1, one line,
// never an out-of-memory crash.
type ValueTooLargeError struct{}

func (e *ValueTooLargeError) Error() string {
	where := ""
	if maxValue.Load() == 0 && DefaultMaxValue() < maxDefaultMaxValue {
		where = fmt.Sprintf(" within this container's memory limit of %d MiB", MemoryLimit()>>20)
	}
	return fmt.Sprintf("one value of the answer is larger than %d MiB, kcurl's bound on what it holds in memory%s (--max-value SIZE or KCURL_MAX_VALUE=SIZE raises it)", MaxValue()>>20, where)
}
func (e *ValueTooLargeError) ExitCode() int { return exitcode.Failed }
