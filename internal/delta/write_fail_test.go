package delta

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/blob/memblob"
)

// failingData fails every Put of a data file after reading a little of it
// (as a store that drops the connection would); log writes pass.
type failingData struct{ blob.Bucket }

func (b failingData) Put(ctx context.Context, key string, r io.Reader, o blob.PutOptions) error {
	if strings.Contains(key, "_delta_log") {
		return b.Bucket.Put(ctx, key, r, o)
	}
	io.CopyN(io.Discard, r, 10)
	return errors.New("connection reset")
}

// TestWriteStoreFailure: when storing a data file fails mid-write the
// write returns the store's error (and aborts) instead of hanging, and
// nothing is committed.
func TestWriteStoreFailure(t *testing.T) {
	ctx := context.Background()
	b := failingData{memblob.New()}
	tbl := NewTable(b, "t")
	_, err := tbl.CreateTable(ctx, CreateTableOptions{Schema: &StructType{Fields: []*StructField{field("id", TypeLong), field("s", TypeString)}}})
	require.NoError(t, err)
	// More than a row group (128 MiB buffered): the first flush writes
	// into the failed store while rows are still being written.
	long := strings.Repeat("x", 1000)
	rows := make([]Row, 140_000)
	for i := range rows {
		rows[i] = Row{int64(i), long}
	}
	done := make(chan error, 1)
	go func() {
		_, err := tbl.Append(ctx, rows, WriteOptions{})
		done <- err
	}()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("Append did not return after the store failed")
	}
	require.ErrorContains(t, err, "connection reset")
	snap, err := tbl.Latest(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(0), snap.Version())
	require.Empty(t, snap.Files())
}
