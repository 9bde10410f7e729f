package stmtstore_test

import (
	"testing"

	"github.com/lakebox/lakebox/internal/query/stmtstore"
	"github.com/lakebox/lakebox/internal/query/stmtstore/stmtstoretest"
)

func TestMemory(t *testing.T) {
	stmtstoretest.Run(t, func(*testing.T) stmtstore.Store { return stmtstore.NewMemory() })
}
