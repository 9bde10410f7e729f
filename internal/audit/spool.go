package audit

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/lakebox/lakebox/internal/errs"
)

// Record is one spooled payload with its sequence number.
type Record struct {
	Seq     uint64
	Payload []byte
}

// recordHeader is [len u32][crc32c u32][seq u64]; the checksum covers the
// seq and the payload.
const recordHeader = 16

// maxRecord bounds one payload (a corrupt length never makes us allocate
// gigabytes).
const maxRecord = 16 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// SpoolOptions configure OpenSpool.
type SpoolOptions struct {
	// SegmentBytes rolls to a new segment file past this size (default 8 MiB).
	SegmentBytes int64
	// NoSync skips fsync (tests and benchmarks of the non-durable path only).
	NoSync bool
	Logger *slog.Logger
}

// Spool is a durable, append-only queue of records in segment files
// ("<first seq, 20 digits>.seg") in one directory. Append returns after the
// record is written and fsynced; concurrent appenders share one write and
// one fsync (group commit). Records stay readable through Pending until
// Release; segments whose records are all released are deleted, except the
// newest, whose name keeps the sequence high-water mark across restarts.
//
// A Spool is safe for concurrent use. One process at a time holds a spool
// directory (flock on LOCK).
type Spool struct {
	dir  string
	id   string
	opts SpoolOptions
	log  *slog.Logger
	lock *os.File

	mu      sync.Mutex
	idle    *sync.Cond // signalled when writing turns false
	nextSeq uint64
	cur     *spoolBatch
	writing bool
	durable []Record // written, fsynced, not released; seq order
	closed  bool
	// released is the highest released seq, persisted in the file
	// "released" so released records are not replayed after a restart.
	released uint64

	wmu      sync.Mutex // held by the writing leader and by Release/Close
	f        *os.File   // active segment
	fSize    int64
	fFirst   uint64   // first seq of the active segment (its name)
	segments []uint64 // first seqs of older segments, ascending
	lastSeqs map[uint64]uint64
}

type spoolBatch struct {
	buf   []byte
	recs  []Record
	first uint64
	done  chan struct{}
	err   error
}

func newBatch() *spoolBatch { return &spoolBatch{done: make(chan struct{})} }

// OpenSpool opens (creating) the spool in dir, truncates a torn record at
// the end of the newest segment and loads every unreleased record for
// Pending. Errors: errs.FailedPrecondition SPOOL_LOCKED when another
// process holds dir; I/O errors.
func OpenSpool(dir string, opts SpoolOptions) (*Spool, error) {
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = 8 << 20
	}
	s := &Spool{dir: dir, opts: opts, log: opts.Logger, cur: newBatch(), lastSeqs: map[uint64]uint64{}}
	s.idle = sync.NewCond(&s.mu)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create spool dir: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open spool lock: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, errs.Wrap(errs.FailedPrecondition, "SPOOL_LOCKED", err, "spool %s is in use by another process", dir)
	}
	s.lock = lock
	if s.id, err = spoolID(dir); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.load(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func spoolID(dir string) (string, error) {
	p := filepath.Join(dir, "id")
	b, err := os.ReadFile(p)
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	var r [8]byte
	rand.Read(r[:])
	id := hex.EncodeToString(r[:])
	if err := writeFileSync(p, []byte(id+"\n")); err != nil {
		return "", fmt.Errorf("write spool id: %w", err)
	}
	return id, nil
}

func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	f.Close()
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ID returns the spool's persistent id (used in Delta txn app ids).
func (s *Spool) ID() string { return s.id }

func segName(first uint64) string { return fmt.Sprintf("%020d.seg", first) }

func (s *Spool) load() error {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	var firsts []uint64
	for _, e := range ents {
		n, ok := strings.CutSuffix(e.Name(), ".seg")
		if !ok {
			continue
		}
		v, err := strconv.ParseUint(n, 10, 64)
		if err != nil {
			continue
		}
		firsts = append(firsts, v)
	}
	sort.Slice(firsts, func(i, j int) bool { return firsts[i] < firsts[j] })
	var high uint64
	for i, first := range firsts {
		if first > 0 && first-1 > high {
			high = first - 1
		}
		last := i == len(firsts)-1
		recs, good, err := readSegment(filepath.Join(s.dir, segName(first)))
		if err != nil && !last {
			s.log.Warn("spool segment damaged; keeping the records before the damage", "segment", segName(first), "err", err.Error())
		}
		if err != nil && last {
			// A torn tail from a crash mid-write: cut it off.
			s.log.Warn("spool truncating torn tail", "segment", segName(first), "offset", good, "err", err.Error())
			if terr := os.Truncate(filepath.Join(s.dir, segName(first)), good); terr != nil {
				return fmt.Errorf("truncate spool segment: %w", terr)
			}
		}
		for _, r := range recs {
			if r.Seq > high {
				high = r.Seq
			}
		}
		s.durable = append(s.durable, recs...)
		if len(recs) > 0 {
			s.lastSeqs[first] = recs[len(recs)-1].Seq
		} else {
			s.lastSeqs[first] = 0
		}
		s.segments = append(s.segments, first)
	}
	sort.Slice(s.durable, func(i, j int) bool { return s.durable[i].Seq < s.durable[j].Seq })
	if b, err := os.ReadFile(filepath.Join(s.dir, "released")); err == nil {
		if v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil {
			s.released = v
			i := sort.Search(len(s.durable), func(i int) bool { return s.durable[i].Seq > v })
			s.durable = s.durable[i:]
			if v > high {
				high = v
			}
		}
	}
	s.nextSeq = high + 1
	return nil
}

// readSegment returns the valid records of a segment and the offset after
// the last valid one; err describes the first invalid record (torn or
// corrupt), if any.
func readSegment(path string) ([]Record, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	var out []Record
	var off int64
	var hdr [recordHeader]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if err == io.EOF {
				return out, off, nil
			}
			return out, off, fmt.Errorf("torn record header at offset %d", off)
		}
		n := binary.LittleEndian.Uint32(hdr[0:4])
		sum := binary.LittleEndian.Uint32(hdr[4:8])
		seq := binary.LittleEndian.Uint64(hdr[8:16])
		if n > maxRecord {
			return out, off, fmt.Errorf("record length %d at offset %d exceeds the limit", n, off)
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			return out, off, fmt.Errorf("torn record at offset %d", off)
		}
		c := crc32.Update(crc32.Checksum(hdr[8:16], castagnoli), castagnoli, payload)
		if c != sum {
			return out, off, fmt.Errorf("checksum mismatch at offset %d", off)
		}
		out = append(out, Record{Seq: seq, Payload: payload})
		off += recordHeader + int64(n)
	}
}

func appendRecord(buf []byte, seq uint64, payload []byte) []byte {
	var hdr [recordHeader]byte
	binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint64(hdr[8:16], seq)
	c := crc32.Update(crc32.Checksum(hdr[8:16], castagnoli), castagnoli, payload)
	binary.LittleEndian.PutUint32(hdr[4:8], c)
	buf = append(buf, hdr[:]...)
	return append(buf, payload...)
}

// ErrSpoolClosed is returned by Append after Close.
var ErrSpoolClosed = errs.E(errs.Unavailable, "SPOOL_CLOSED", "the spool is closed")

// Append writes payload durably and returns its sequence number. The
// payload must not be modified afterwards. Errors: ErrSpoolClosed;
// errs.TooLarge for payloads over 16 MiB; errs.Unavailable SPOOL_WRITE_FAILED
// when the write or fsync failed (the record is then not in the spool).
func (s *Spool) Append(payload []byte) (uint64, error) {
	if len(payload) > maxRecord {
		return 0, errs.E(errs.TooLarge, "SPOOL_RECORD_TOO_LARGE", "spool record of %d bytes exceeds the limit of %d", len(payload), maxRecord)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, ErrSpoolClosed
	}
	seq := s.nextSeq
	s.nextSeq++
	b := s.cur
	if len(b.recs) == 0 {
		b.first = seq
	}
	b.buf = appendRecord(b.buf, seq, payload)
	b.recs = append(b.recs, Record{Seq: seq, Payload: payload})
	if s.writing {
		s.mu.Unlock()
		<-b.done
		return seq, b.err
	}
	// Lead: write batches until none is pending.
	s.writing = true
	for {
		wb := s.cur
		s.cur = newBatch()
		s.mu.Unlock()
		wb.err = s.write(wb)
		s.mu.Lock()
		if wb.err == nil {
			s.durable = append(s.durable, wb.recs...)
		}
		close(wb.done)
		if len(s.cur.recs) == 0 {
			s.writing = false
			s.idle.Broadcast()
			s.mu.Unlock()
			break
		}
	}
	<-b.done
	return seq, b.err
}

func (s *Spool) write(b *spoolBatch) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.f == nil || s.fSize >= s.opts.SegmentBytes {
		if err := s.rotate(b.first); err != nil {
			return errs.Wrap(errs.Unavailable, "SPOOL_WRITE_FAILED", err, "cannot open a spool segment")
		}
	}
	if _, err := s.f.Write(b.buf); err != nil {
		s.f.Truncate(s.fSize) // best effort: drop the partial batch
		return errs.Wrap(errs.Unavailable, "SPOOL_WRITE_FAILED", err, "cannot write the spool")
	}
	if !s.opts.NoSync {
		if err := s.f.Sync(); err != nil {
			return errs.Wrap(errs.Unavailable, "SPOOL_WRITE_FAILED", err, "cannot fsync the spool")
		}
	}
	s.fSize += int64(len(b.buf))
	s.lastSeqs[s.fFirst] = b.recs[len(b.recs)-1].Seq
	return nil
}

// rotate starts a new segment named first. Called with wmu held.
func (s *Spool) rotate(first uint64) error {
	// A segment of this name can only exist without valid records (else
	// nextSeq would be past first), so truncating it loses nothing.
	f, err := os.OpenFile(filepath.Join(s.dir, segName(first)), os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	for i, v := range s.segments {
		if v == first {
			s.segments = append(s.segments[:i:i], s.segments[i+1:]...)
			break
		}
	}
	if err := syncDir(s.dir); err != nil && !s.opts.NoSync {
		f.Close()
		return err
	}
	if s.f != nil {
		s.f.Close()
		s.segments = append(s.segments, s.fFirst)
	}
	s.f, s.fSize, s.fFirst = f, 0, first
	s.lastSeqs[first] = 0
	return nil
}

// Pending returns up to max durable, unreleased records in sequence order
// (max <= 0: all). The returned records must not be modified.
func (s *Spool) Pending(max int) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.durable)
	if max > 0 && n > max {
		n = max
	}
	out := make([]Record, n)
	copy(out, s.durable[:n])
	return out
}

// Len returns the number of durable, unreleased records.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.durable)
}

// Release forgets every record with seq <= upTo and deletes the segment
// files that hold only such records (never the newest segment).
func (s *Spool) Release(upTo uint64) error {
	s.mu.Lock()
	i := sort.Search(len(s.durable), func(i int) bool { return s.durable[i].Seq > upTo })
	s.durable = append(s.durable[:0:0], s.durable[i:]...)
	advance := upTo > s.released
	if advance {
		s.released = upTo
	}
	s.mu.Unlock()
	if advance {
		// Not fsynced: losing it only replays records the reader skips
		// by its own watermark (the Delta txn version).
		tmp := filepath.Join(s.dir, "released.tmp")
		if err := os.WriteFile(tmp, []byte(strconv.FormatUint(upTo, 10)+"\n"), 0o640); err == nil {
			os.Rename(tmp, filepath.Join(s.dir, "released"))
		}
	}

	s.wmu.Lock()
	defer s.wmu.Unlock()
	var keep []uint64
	var errOut error
	for j, first := range s.segments {
		newest := s.f == nil && j == len(s.segments)-1
		if !newest && s.lastSeqs[first] <= upTo {
			if err := os.Remove(filepath.Join(s.dir, segName(first))); err != nil && !errors.Is(err, os.ErrNotExist) {
				errOut = err
				keep = append(keep, first)
				continue
			}
			delete(s.lastSeqs, first)
			continue
		}
		keep = append(keep, first)
	}
	s.segments = keep
	return errOut
}

// Close waits for in-flight appends and closes the spool; later appends fail
// with ErrSpoolClosed. Unreleased records stay on disk for the next open.
func (s *Spool) Close() error {
	s.mu.Lock()
	s.closed = true
	for s.writing {
		s.idle.Wait()
	}
	s.mu.Unlock()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var err error
	if s.f != nil {
		err = s.f.Close()
		s.segments = append(s.segments, s.fFirst)
		s.f = nil
	}
	if s.lock != nil {
		s.lock.Close() // releases the flock
		s.lock = nil
	}
	return err
}
