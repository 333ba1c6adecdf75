package localcloud

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pecplatform/pec/infra/emulators"
	"github.com/pecplatform/pec/shared/wire"
)

var (
	shared     *Cloud
	sharedErr  error
	sharedOnce sync.Once
)

// ForTests returns the test binary's local cloud, started on free ports at the first call and
// stopped by RunTests. Without the emulators installed the test is skipped, except under CI,
// where a missing emulator is a failure.
func ForTests(tb testing.TB) *Cloud {
	tb.Helper()
	if testing.Short() {
		tb.Skip("needs the local cloud (not in -short mode)")
	}
	sharedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		// The functions are built by Start: they log to the audit, which keeps their log, masked,
		// in the logs directory once it has read it.
		a := newAudit()
		wire.LogOutput = a
		shared, sharedErr = Start(ctx, Config{audit: a, Parameters: FastParameters, ProviderDelay: 1500 * time.Millisecond,
			// The first run of every import job dies after 150 rows, between its writes and
			// its checkpoint: the import tests prove the resumption exact.
			// Members named Crashenrol, Crashcallback and Crashclick make their enrolment, the
			// provider's callback and their click die once after writing (faults_test.go).
			Env: map[string]string{"IMPORT_FAULT_PANIC_AFTER_ROWS": "150",
				"FAULT_PANIC_AT": `enrol=^crashenrol\.,callback=^crashcallback\.,click=^crashclick\.`},
			// FAULTS (e.g. "dynamodb=0.1,states=0.1,ses=0.1") runs every test with faults;
			// the fault suite (PEC_FAULTS=1) sets its own.
			Faults: os.Getenv("FAULTS"), FaultsSeed: faultsSeed(),
			ProviderReject: regexp.MustCompile(`^rifiutata\.`),
			// PROVIDER=aruba or legalmail runs the suite on that provider's stand-in.
			ProviderKind: os.Getenv("PROVIDER")})
	})
	if sharedErr != nil {
		if errors.Is(sharedErr, emulators.ErrNotInstalled) && os.Getenv("CI") != "true" {
			tb.Skipf("local cloud not installed (run make deps): %v", sharedErr)
		}
		tb.Fatalf("start the local cloud: %v", sharedErr)
	}
	return shared
}

func faultsSeed() int64 {
	n, _ := strconv.ParseInt(os.Getenv("FAULTS_SEED"), 10, 64)
	return n
}

// RunTests runs the package's tests and then, if they started the local cloud, stops it and
// audits its logs (see audit.go): a log line holding a codice fiscale, a token, a secret or an
// e-mail's text fails the package. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(local.RunTests(m)) }
func RunTests(m *testing.M) int {
	code := m.Run()
	if shared == nil || sharedErr != nil {
		return code
	}
	ctx, cancel := context.WithTimeout(context.Background(), auditTimeout)
	defer cancel()
	leaks, err := shared.auditPrivacy(ctx)
	shared.Close()
	switch {
	case err != nil:
		fmt.Fprintf(os.Stderr, "\nPRIVACY AUDIT FAILED: %v\n", err)
		return 1
	case len(leaks) > 0:
		reportLeaks(os.Stderr, leaks, shared.logsDir)
		return 1
	}
	return code
}
