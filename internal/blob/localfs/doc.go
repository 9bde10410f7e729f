// Package localfs implements blob.Bucket on a local directory tree.
//
// Each object is one regular file at root/<key>. A Put writes and fsyncs a
// temporary file in the hidden staging directory root/.lakebox-tmp (never
// listed, and not usable as a key), then moves it into place: a plain Put
// rename(2)s it over the target, so readers see the old or the new content and
// never a partial file; a Put with IfAbsent link(2)s it to the target, which
// fails with EEXIST if the key exists, so exactly one of many racing writers
// (threads or processes, on one host or on a shared POSIX file system that
// honours link semantics) wins. The parent directory is fsynced afterwards.
//
// All file system access goes through an os.Root, so no key, and no symbolic
// link inside the tree, can reach a file outside root; such keys are rejected
// with errs.Invalid. List walks only the sub-tree its prefix allows, does not
// follow symbolic links, and sorts keys in byte order.
//
// Limitation: a directory tree cannot hold both key "a" and key "a/b". A Put
// that would need this fails with errs.FailedPrecondition and reason
// ReasonPathConflict.
package localfs
