package memstore_test

import (
	"testing"

	"github.com/twostep/twostep/store"
	"github.com/twostep/twostep/store/memstore"
	"github.com/twostep/twostep/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(testing.TB) store.Store { return memstore.New() })
}
