package pathrs

import (
	"fmt"
	"os"
	"testing"
)

// childEnv selects, in a re-executed test binary, the child function to run
// instead of the tests (see mount_test.go).
const childEnv = "BERTH_PATHRS_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "mount":
		if err := mountChild(os.Getenv(childRootEnv)); err != nil {
			fmt.Fprintln(os.Stderr, "mount child:", err)
			os.Exit(1)
		}
		fmt.Println(childOK)
		os.Exit(0)
	default:
		fmt.Fprintf(os.Stderr, "unknown %s=%q\n", childEnv, os.Getenv(childEnv))
		os.Exit(2)
	}
}
