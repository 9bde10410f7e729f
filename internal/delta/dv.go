package delta

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"path"
	"strings"

	"github.com/RoaringBitmap/roaring"
	"github.com/google/uuid"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/errs"
)

const z85Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"

var z85Decode = func() (t [256]int16) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(z85Alphabet); i++ {
		t[z85Alphabet[i]] = int16(i)
	}
	return
}()

// Z85Decode decodes the Z85 variant the Delta protocol uses for deletion
// vectors: every 5 characters become 4 big-endian bytes. The input length
// must be a multiple of 5.
func Z85Decode(s string) ([]byte, error) {
	if len(s)%5 != 0 {
		return nil, fmt.Errorf("z85 input length %d is not a multiple of 5", len(s))
	}
	out := make([]byte, 0, len(s)/5*4)
	for i := 0; i < len(s); i += 5 {
		var v uint64
		for j := 0; j < 5; j++ {
			d := z85Decode[s[i+j]]
			if d < 0 {
				return nil, fmt.Errorf("z85 input has invalid character %q at %d", s[i+j], i+j)
			}
			v = v*85 + uint64(d)
		}
		// Values above 2^32 occur in the padded last block of inline DVs
		// written by delta-spark, whose decoder wraps modulo 2^32.
		out = binary.BigEndian.AppendUint32(out, uint32(v))
	}
	return out, nil
}

// Z85Encode is the inverse of Z85Decode; len(b) must be a multiple of 4.
func Z85Encode(b []byte) (string, error) {
	if len(b)%4 != 0 {
		return "", fmt.Errorf("z85 input length %d is not a multiple of 4", len(b))
	}
	var sb strings.Builder
	for i := 0; i < len(b); i += 4 {
		v := binary.BigEndian.Uint32(b[i:])
		var chunk [5]byte
		for j := 4; j >= 0; j-- {
			chunk[j] = z85Alphabet[v%85]
			v /= 85
		}
		sb.Write(chunk[:])
	}
	return sb.String(), nil
}

// dvMagic is the little-endian magic number opening a serialized
// RoaringBitmapArray in the portable format.
const dvMagic = 1681511377

// DeletedRows is the set of deleted row indexes of one data file.
type DeletedRows struct{ buckets map[uint32]*roaring.Bitmap }

// Contains reports whether row index i is deleted.
func (d *DeletedRows) Contains(i uint64) bool {
	if d == nil {
		return false
	}
	b := d.buckets[uint32(i>>32)]
	return b != nil && b.Contains(uint32(i))
}

// Cardinality returns the number of deleted rows.
func (d *DeletedRows) Cardinality() uint64 {
	if d == nil {
		return 0
	}
	var n uint64
	for _, b := range d.buckets {
		n += b.GetCardinality()
	}
	return n
}

// ToSlice returns the deleted row indexes in ascending order.
func (d *DeletedRows) ToSlice() []uint64 {
	if d == nil {
		return nil
	}
	var keys []uint32
	for k := range d.buckets {
		keys = append(keys, k)
	}
	sortUint32(keys)
	var out []uint64
	for _, k := range keys {
		it := d.buckets[k].Iterator()
		for it.HasNext() {
			out = append(out, uint64(k)<<32|uint64(it.Next()))
		}
	}
	return out
}

func sortUint32(s []uint32) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// ParseDeletionVector parses the serialized bitmap (magic number followed by
// the 64-bit RoaringBitmapArray "portable" format).
func ParseDeletionVector(b []byte) (*DeletedRows, error) {
	if len(b) < 12 {
		return nil, fmt.Errorf("deletion vector is %d bytes, too short", len(b))
	}
	if m := binary.LittleEndian.Uint32(b); m != dvMagic {
		return nil, fmt.Errorf("deletion vector has magic number %d, want %d", m, dvMagic)
	}
	n := binary.LittleEndian.Uint64(b[4:])
	r := bytes.NewReader(b[12:])
	if n > uint64(len(b)) {
		return nil, fmt.Errorf("deletion vector claims %d buckets in %d bytes", n, len(b))
	}
	d := &DeletedRows{buckets: make(map[uint32]*roaring.Bitmap, n)}
	for i := uint64(0); i < n; i++ {
		var kb [4]byte
		if _, err := r.Read(kb[:]); err != nil {
			return nil, fmt.Errorf("deletion vector bucket %d: %w", i, err)
		}
		bm := roaring.New()
		if _, err := bm.ReadFrom(r); err != nil {
			return nil, fmt.Errorf("deletion vector bucket %d: %w", i, err)
		}
		d.buckets[binary.LittleEndian.Uint32(kb[:])] = bm
	}
	return d, nil
}

// dvFileKey returns the bucket key of an on-disk ('u') deletion vector.
func (t *Table) dvFileKey(dv *DeletionVectorDescriptor) (string, error) {
	p := dv.PathOrInlineDv
	if len(p) < 20 {
		return "", fmt.Errorf("deletion vector path %q is shorter than a Z85 UUID", p)
	}
	prefix, enc := p[:len(p)-20], p[len(p)-20:]
	raw, err := Z85Decode(enc)
	if err != nil {
		return "", fmt.Errorf("deletion vector UUID: %w", err)
	}
	u, err := uuid.FromBytes(raw)
	if err != nil {
		return "", err
	}
	name := "deletion_vector_" + u.String() + ".bin"
	if prefix != "" {
		name = prefix + "/" + name
	}
	return t.root + name, nil
}

// LoadDeletionVector reads the deletion vector dv of a file of this table.
// Errors: errs.NotFound (the DV file is missing), errs.Invalid with reason
// DELTA_CORRUPT_DATA_FILE (bad encoding, magic, size or checksum).
func (t *Table) LoadDeletionVector(ctx context.Context, dv *DeletionVectorDescriptor) (*DeletedRows, error) {
	if dv == nil {
		return nil, nil
	}
	bad := func(where string, err error) error {
		return errs.Wrap(errs.Invalid, ReasonCorruptData, err, "deletion vector %s: %v", where, err)
	}
	switch dv.StorageType {
	case "i":
		b, err := decodeInlineDV(dv.PathOrInlineDv, int(dv.SizeInBytes))
		if err != nil {
			return nil, bad("(inline)", err)
		}
		if int(dv.SizeInBytes) <= len(b) && dv.SizeInBytes > 0 {
			b = b[:dv.SizeInBytes]
		}
		d, err := ParseDeletionVector(b)
		if err != nil {
			return nil, bad("(inline)", err)
		}
		return d, nil
	case "u", "p":
		var key string
		var err error
		if dv.StorageType == "u" {
			key, err = t.dvFileKey(dv)
		} else {
			key, err = t.DataKey(dv.PathOrInlineDv)
		}
		if err != nil {
			return nil, bad(dv.PathOrInlineDv, err)
		}
		off := int64(0)
		if dv.Offset != nil {
			off = int64(*dv.Offset)
		}
		rng := &blob.Range{Offset: off, Length: 4 + int64(dv.SizeInBytes) + 4}
		rc, err := t.bucket.Get(ctx, key, rng)
		if err != nil && errs.Is(err, errs.NotFound) && dv.StorageType == "u" {
			// Some writers (delta-spark test builds) add a file name prefix not
			// recorded in the descriptor; find the file by its UUID suffix.
			if alt := t.findDVBySuffix(ctx, key); alt != "" {
				key = alt
				rc, err = t.bucket.Get(ctx, key, rng)
			}
		}
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				return nil, errs.Wrap(errs.NotFound, ReasonFileNotFound, err, "deletion vector file %s does not exist", key)
			}
			return nil, fmt.Errorf("read deletion vector %s: %w", key, err)
		}
		defer rc.Close()
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(rc); err != nil {
			return nil, fmt.Errorf("read deletion vector %s: %w", key, err)
		}
		b := buf.Bytes()
		if len(b) < 4+int(dv.SizeInBytes) {
			return nil, bad(key, fmt.Errorf("file is truncated at offset %d", off))
		}
		size := binary.BigEndian.Uint32(b)
		if size != uint32(dv.SizeInBytes) {
			return nil, bad(key, fmt.Errorf("stored size %d at offset %d does not match sizeInBytes %d", size, off, dv.SizeInBytes))
		}
		data := b[4 : 4+size]
		if len(b) >= 8+int(size) {
			want := binary.BigEndian.Uint32(b[4+size:])
			if got := crc32.ChecksumIEEE(data); got != want {
				return nil, bad(key, fmt.Errorf("checksum mismatch at offset %d", off))
			}
		}
		d, err := ParseDeletionVector(data)
		if err != nil {
			return nil, bad(key, err)
		}
		return d, nil
	}
	return nil, errs.E(errs.Invalid, ReasonCorruptLog, "deletion vector storageType %q is not one of u, i, p", dv.StorageType)
}

func (t *Table) findDVBySuffix(ctx context.Context, key string) string {
	dir, name := path.Split(key)
	attrs, err := t.bucket.List(ctx, blob.ListOptions{Prefix: dir})
	if err != nil {
		return ""
	}
	for _, a := range attrs {
		rest := strings.TrimPrefix(a.Key, dir)
		if !strings.Contains(rest, "/") && strings.HasSuffix(rest, name) {
			return a.Key
		}
	}
	return ""
}

// decodeInlineDV decodes an inline DV of size bytes. When size is not a
// multiple of 4 the last block is padding-dependent: zero-padded writers
// produce a normal block (left-aligned bytes); others write the r tail
// bytes as an (r+1)-digit big-endian number, right-aligned and left-padded
// with '#' — recognisable because the block then exceeds 32 bits.
func decodeInlineDV(s string, size int) ([]byte, error) {
	b, err := Z85Decode(s)
	if err != nil {
		return nil, err
	}
	r := size % 4
	if r == 0 || len(s) < 5 || size > len(b) || size <= len(b)-4 {
		return b, nil
	}
	last := s[len(s)-5:]
	var full uint64
	for i := 0; i < 5; i++ {
		full = full*85 + uint64(z85Decode[last[i]])
	}
	if full <= 0xffffffff {
		return b, nil
	}
	var tail uint64
	for i := 5 - (r + 1); i < 5; i++ {
		tail = tail*85 + uint64(z85Decode[last[i]])
	}
	if tail >= 1<<(8*r) {
		return nil, fmt.Errorf("inline deletion vector: last block %q does not encode %d bytes", last, r)
	}
	base := len(b) - 4
	for i := 0; i < r; i++ {
		b[base+i] = byte(tail >> (8 * (r - 1 - i)))
	}
	return b[:size], nil
}
