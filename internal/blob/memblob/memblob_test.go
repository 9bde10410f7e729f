package memblob_test

import (
	"testing"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/blob/blobtest"
	"github.com/lakebox/lakebox/internal/blob/memblob"
)

func TestBucket(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Bucket { return memblob.New() })
}

func BenchmarkBucket(b *testing.B) {
	blobtest.Bench(b, func(b *testing.B) blob.Bucket { return memblob.New() })
}
