package blobtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/lakebox/lakebox/internal/blob"
)

// Bench runs the shared benchmarks against buckets made by newBucket (called
// once per sub-benchmark; it must return an empty bucket):
//
//   - PutSmall: a 1 KiB plain Put to a fresh key.
//   - PutIfAbsent: a 1 KiB put-if-absent to a fresh key.
//   - Get: reading a 1 KiB object.
//   - List1000: listing a prefix that holds 1000 keys in 10 directories.
//
// Compare backends within one run (for example against memblob) rather than
// with figures from another machine or another day.
func Bench(b *testing.B, newBucket func(b *testing.B) blob.Bucket) {
	ctx := context.Background()
	payload := make([]byte, 1024)
	b.Run("PutSmall", func(b *testing.B) {
		bk := newBucket(b)
		b.SetBytes(int64(len(payload)))
		i := 0
		for b.Loop() {
			if err := blob.PutBytes(ctx, bk, fmt.Sprintf("put/%08d", i), payload, blob.PutOptions{}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("PutIfAbsent", func(b *testing.B) {
		bk := newBucket(b)
		b.SetBytes(int64(len(payload)))
		i := 0
		for b.Loop() {
			if err := blob.PutBytes(ctx, bk, fmt.Sprintf("log/%020d.json", i), payload, blob.PutOptions{IfAbsent: true}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("Get", func(b *testing.B) {
		bk := newBucket(b)
		if err := blob.PutBytes(ctx, bk, "get/object", payload, blob.PutOptions{}); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			data, err := blob.ReadAll(ctx, bk, "get/object")
			if err != nil || len(data) != len(payload) {
				b.Fatal(len(data), err)
			}
		}
	})
	b.Run("List1000", func(b *testing.B) {
		bk := newBucket(b)
		for i := range 1000 {
			if err := blob.PutBytes(ctx, bk, fmt.Sprintf("list/d%d/k%04d", i%10, i), []byte("x"), blob.PutOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		for b.Loop() {
			as, err := bk.List(ctx, blob.ListOptions{Prefix: "list/"})
			if err != nil || len(as) != 1000 {
				b.Fatal(len(as), err)
			}
		}
	})
}
