package runtime

import (
	"os"
	"testing"

	"github.com/berth-project/berth/internal/runtime/runtimetest"
)

func TestMain(m *testing.M) {
	if runtimetest.Invoked() {
		runtimetest.Main()
	}
	os.Exit(m.Run())
}
