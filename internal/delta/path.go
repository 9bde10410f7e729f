package delta

import (
	"fmt"
	"net/url"
	"strings"
)

// DecodePath turns an add/remove/cdc path as written in the log (a URI
// reference, percent-encoded) into the key it names: relative paths are
// relative to the table root; absolute ones keep their scheme-less form
// ("/x"). Errors: a malformed percent escape.
func DecodePath(p string) (string, error) {
	if strings.Contains(p, "%") {
		d, err := url.PathUnescape(p)
		if err != nil {
			return "", fmt.Errorf("path %q has a bad percent escape: %w", p, err)
		}
		return d, nil
	}
	return p, nil
}

// CanonicalPath returns the form of a log path used to match removes with
// adds: percent-decoded, with "file:" URIs reduced to their absolute path
// ("file:/x", "file:///x" and "/x" are all "/x").
func CanonicalPath(p string) string {
	d, err := DecodePath(p)
	if err != nil {
		d = p
	}
	if strings.HasPrefix(d, "file:") {
		d = strings.TrimPrefix(d, "file:")
		if strings.HasPrefix(d, "///") {
			d = d[2:]
		} else if strings.HasPrefix(d, "//") {
			// file://host/x: keep the host-less path
			rest := d[2:]
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				d = rest[i:]
			} else {
				d = "/"
			}
		}
	}
	return d
}

// hiveEscapeChars are the characters Spark escapes in partition directory
// names (ExternalCatalogUtils.escapePathName).
func needsHiveEscape(c byte) bool {
	if c < 0x20 || c == 0x7f {
		return true
	}
	switch c {
	case '"', '#', '%', '\'', '*', '/', ':', '=', '?', '\\', '{', '[', ']', '^':
		return true
	}
	return false
}

// EscapePartitionValue escapes a partition value for a Hive-style directory
// name ("a:b" -> "a%3Ab"). The log path is this escaped name, then
// URI-encoded.
func EscapePartitionValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if needsHiveEscape(c) {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// UnescapePartitionValue reverses EscapePartitionValue; invalid escapes are
// kept verbatim, as Hive does.
func UnescapePartitionValue(v string) string {
	if !strings.Contains(v, "%") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '%' && i+2 < len(v) {
			if h, ok := unhex2(v[i+1], v[i+2]); ok {
				b.WriteByte(h)
				i += 2
				continue
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

func unhex2(a, b byte) (byte, bool) {
	x, ok1 := unhex(a)
	y, ok2 := unhex(b)
	return x<<4 | y, ok1 && ok2
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// HiveDefaultPartition is the directory name of a NULL partition value.
const HiveDefaultPartition = "__HIVE_DEFAULT_PARTITION__"

// ParsePartitionDirs extracts partition values from the Hive-style
// directories of a decoded relative path ("a=1/b=x%3Ay/part-0.parquet" ->
// a:"1", b:"x:y"); NULL partitions yield nil. It is a fallback for files
// without partitionValues; the log's partitionValues are authoritative.
func ParsePartitionDirs(relPath string) PartitionValues {
	parts := strings.Split(relPath, "/")
	out := PartitionValues{}
	for _, p := range parts[:max(0, len(parts)-1)] {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k = UnescapePartitionValue(k)
		if v == HiveDefaultPartition {
			out[k] = nil
			continue
		}
		s := UnescapePartitionValue(v)
		out[k] = &s
	}
	return out
}
