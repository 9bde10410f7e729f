package blob

import (
	"strings"
	"unicode/utf8"

	"github.com/lakebox/lakebox/internal/errs"
)

// ReasonInvalidKey is the errs reason for a key or prefix that breaks the key
// rules described in the package comment.
const ReasonInvalidKey = "BLOB_INVALID_KEY"

// ReasonNotFound is the errs reason backends use when a key does not exist.
const ReasonNotFound = "BLOB_NOT_FOUND"

// ReasonInvalidRange is the errs reason for a byte range that is negative or
// starts past the end of the object.
const ReasonInvalidRange = "BLOB_INVALID_RANGE"

// MaxKeyLen is the longest key, in bytes, that every backend accepts (S3's
// limit).
const MaxKeyLen = 1024

// ValidateKey reports whether key is a valid object key. A valid key is
// non-empty valid UTF-8 of at most MaxKeyLen bytes, is relative (no leading
// "/"), and consists of non-empty "/"-separated segments none of which is "."
// or "..", with no NUL byte and no backslash. It returns errs.Invalid with
// reason ReasonInvalidKey, saying what was wrong, otherwise.
func ValidateKey(key string) error {
	if key == "" {
		return errs.E(errs.Invalid, ReasonInvalidKey, "blob key must not be empty")
	}
	if len(key) > MaxKeyLen {
		return errs.E(errs.Invalid, ReasonInvalidKey, "blob key is %d bytes long; at most %d are accepted", len(key), MaxKeyLen)
	}
	if !utf8.ValidString(key) {
		return errs.E(errs.Invalid, ReasonInvalidKey, "blob key %q is not valid UTF-8", key)
	}
	if strings.HasPrefix(key, "/") {
		return errs.E(errs.Invalid, ReasonInvalidKey, "blob key %q must be relative (no leading \"/\")", key)
	}
	if i := strings.IndexAny(key, "\x00\\"); i >= 0 {
		return errs.E(errs.Invalid, ReasonInvalidKey, "blob key %q contains a NUL byte or backslash; keys are \"/\"-separated", key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "":
			return errs.E(errs.Invalid, ReasonInvalidKey, "blob key %q has an empty segment (\"//\" or a trailing \"/\")", key)
		case ".", "..":
			return errs.E(errs.Invalid, ReasonInvalidKey, "blob key %q contains a %q segment; keys must be clean relative paths", key, seg)
		}
	}
	return nil
}

// ValidatePrefix reports whether prefix can begin a valid key, so that a
// List with it can match something: the empty prefix, or a prefix that, when
// completed, is a valid key ("a/", "a/b", "a/." are all fine; "/a" and "a//"
// are not). It returns errs.Invalid with reason ReasonInvalidKey otherwise.
func ValidatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if err := ValidateKey(prefix + "x"); err != nil {
		return errs.E(errs.Invalid, ReasonInvalidKey, "blob list prefix %q can never match a valid key: %s", prefix, errs.Message(err))
	}
	return nil
}

// ValidateRange checks rng against an object of size bytes and returns the
// offset and number of bytes to read. A nil rng selects the whole object; a
// negative Length means "to the end"; a range reaching beyond the end is
// truncated. It returns errs.Invalid with reason ReasonInvalidRange for a
// negative offset or an offset past the end (an offset equal to size yields
// zero bytes).
func ValidateRange(rng *Range, size int64) (offset, n int64, err error) {
	if rng == nil {
		return 0, size, nil
	}
	if rng.Offset < 0 {
		return 0, 0, errs.E(errs.Invalid, ReasonInvalidRange, "byte range offset %d is negative", rng.Offset)
	}
	if rng.Offset > size {
		return 0, 0, errs.E(errs.Invalid, ReasonInvalidRange, "byte range offset %d is past the end of the %d-byte object", rng.Offset, size)
	}
	n = size - rng.Offset
	if rng.Length >= 0 && rng.Length < n {
		n = rng.Length
	}
	return rng.Offset, n, nil
}
