package stm_test

import (
	"testing"

	"github.com/hytm/hytm/internal/tmtest"
	"github.com/hytm/hytm/stm"
)

// TestBehaviour runs the behaviour suite shared with package hybrid.
func TestBehaviour(t *testing.T) {
	tmtest.Run(t, tmtest.Impl{
		Name:       "stm",
		Atomically: stm.Atomically,
		OrElse:     stm.OrElse,
	})
}
