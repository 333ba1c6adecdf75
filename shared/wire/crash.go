package wire

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/pecplatform/pec/shared/app"
)

// crashed remembers the crash points already hit in this process: each one kills its first
// passage only, so that the retry can show what it completes.
var crashed sync.Map

// CrashFromEnv reads the test-only crash switch FAULT_PANIC_AT: comma-separated
// point=regexp, a crash point (enrol, callback, click) and a regular expression on the
// mailbox's address, e.g. "enrol=^crashenrol\.,click=^crashclick\.". A use case passing a
// listed point for a matching address panics there, once per point and address. Unset
// (production), it returns nil.
func CrashFromEnv(getenv Getenv) (app.Crash, error) {
	spec := getenv("FAULT_PANIC_AT")
	if spec == "" {
		return nil, nil
	}
	points := map[string]*regexp.Regexp{}
	for part := range strings.SplitSeq(spec, ",") {
		point, expr, ok := strings.Cut(strings.TrimSpace(part), "=")
		re, err := regexp.Compile(expr)
		if !ok || err != nil {
			return nil, fmt.Errorf("FAULT_PANIC_AT: %q is not point=regexp", part)
		}
		points[point] = re
	}
	return func(point, address string) {
		if re, ok := points[point]; !ok || !re.MatchString(address) {
			return
		}
		if _, hit := crashed.LoadOrStore(point+" "+address, true); !hit {
			panic(fmt.Sprintf("fault injection: %s dies after its write (FAULT_PANIC_AT)", point))
		}
	}, nil
}
