package testenv

import (
	"os"
	"testing"
)

// skipOrFail skips the test when a service is missing, unless the run must
// have every service (LAKEBOX_REQUIRE_SERVICES or CI set, as the project's
// test command and CI do), in which case a missing service fails the test.
func skipOrFail(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("LAKEBOX_REQUIRE_SERVICES") != "" || os.Getenv("CI") != "" {
		t.Fatalf("required service missing: %s", msg)
	}
	t.Skip(msg)
}
