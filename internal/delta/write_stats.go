package delta

import (
	"bytes"
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"time"
	"unicode/utf8"
)

// Statistics written into add actions, computed while a data file is
// written: numRecords, and per column minValues, maxValues and nullCount,
// nested like the schema, keyed by physical column names. As Spark does,
// min/max are kept for numbers, decimals, dates, timestamps and strings
// (strings truncated to statsStringPrefix characters, with a valid upper
// bound), not for booleans, binaries, arrays and maps; nullCount is kept for
// every column.

const statsStringPrefix = 32

type statKind int

const (
	statStruct statKind = iota
	statNullOnly
	statInt
	statFloat
	statString
	statDecimal
	statDate
	statTimestamp
	statTimestampNTZ
)

type colStat struct {
	name     string
	kind     statKind
	children []*colStat
	nulls    int64
	has      bool
	imin     int64
	imax     int64
	fmin     float64
	fmax     float64
	fbad     bool // NaN or infinity seen: no float bounds
	smin     string
	smax     string
	dmin     *big.Int
	dmax     *big.Int
	scale    int
}

// newLeafStat returns the statistics of leaf n, whose leaf kind is set.
func newLeafStat(name string, n *wnode) *colStat {
	s := &colStat{name: name, kind: statNullOnly}
	switch n.lk {
	case lkDecimal:
		s.kind, s.scale = statDecimal, n.dt.(*DecimalType).Scale
	case lkLong, lkInt:
		s.kind = statInt
	case lkFloat, lkDouble:
		s.kind = statFloat
	case lkString:
		s.kind = statString
	case lkDate:
		s.kind = statDate
	case lkTimestamp:
		s.kind = statTimestamp
	case lkTimestampNTZ:
		s.kind = statTimestampNTZ
	}
	return s
}

func (s *colStat) reset() {
	s.nulls, s.has, s.fbad = 0, false, false
	s.smin, s.smax, s.dmin, s.dmax = "", "", nil, nil
	for _, c := range s.children {
		c.reset()
	}
}

// addNull counts a NULL; a NULL struct makes every nested column NULL.
func (s *colStat) addNull() {
	if s.kind == statStruct {
		for _, c := range s.children {
			c.addNull()
		}
		return
	}
	s.nulls++
}

func (s *colStat) addInt(x int64) {
	if !s.has {
		s.imin, s.imax, s.has = x, x, true
		return
	}
	if x < s.imin {
		s.imin = x
	}
	if x > s.imax {
		s.imax = x
	}
}

func (s *colStat) addFloat(x float64) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		s.fbad = true
		return
	}
	if !s.has {
		s.fmin, s.fmax, s.has = x, x, true
		return
	}
	if x < s.fmin {
		s.fmin = x
	}
	if x > s.fmax {
		s.fmax = x
	}
}

func (s *colStat) addString(x string) {
	if !s.has {
		s.smin, s.smax, s.has = x, x, true
		return
	}
	if x < s.smin {
		s.smin = x
	}
	if x > s.smax {
		s.smax = x
	}
}

func (s *colStat) addDecimal(u *big.Int) {
	if !s.has {
		s.dmin, s.dmax, s.has = new(big.Int).Set(u), new(big.Int).Set(u), true
		return
	}
	if u.Cmp(s.dmin) < 0 {
		s.dmin.Set(u)
	}
	if u.Cmp(s.dmax) > 0 {
		s.dmax.Set(u)
	}
}

// truncateMin returns the first statsStringPrefix characters of x, a valid
// lower bound.
func truncateMin(x string) string {
	n := 0
	for i := range x {
		if n == statsStringPrefix {
			return x[:i]
		}
		n++
	}
	return x
}

// truncateMax returns a string of about statsStringPrefix characters that
// is >= every string with x's prefix, or ok=false when none exists.
func truncateMax(x string) (string, bool) {
	n := 0
	for i, r := range x {
		if n >= statsStringPrefix && r != utf8.MaxRune {
			// x[:i] + U+10FFFF sorts after every string starting with x[:i]
			// whose next character is below U+10FFFF, in UTF-8 byte order.
			return x[:i] + string(utf8.MaxRune), true
		}
		n++
		if n > 4*statsStringPrefix {
			return "", false
		}
	}
	return x, true
}

// boundJSON writes the min (lower=true) or max bound of a leaf; false when
// the column has no bound.
func (s *colStat) boundJSON(buf *bytes.Buffer, lower bool) bool {
	if !s.has {
		return false
	}
	switch s.kind {
	case statInt:
		v := s.imax
		if lower {
			v = s.imin
		}
		buf.WriteString(strconv.FormatInt(v, 10))
	case statFloat:
		if s.fbad {
			return false
		}
		v := s.fmax
		if lower {
			v = s.fmin
		}
		if v == 0 { // -0.0 and 0.0 compare equal: use -0 as the lower bound, +0 as the upper
			v = 0
			if lower {
				v = math.Copysign(0, -1)
			}
		}
		b, _ := json.Marshal(v)
		if v == 0 && lower {
			b = []byte("-0.0")
		}
		buf.Write(b)
	case statString:
		var v string
		if lower {
			v = truncateMin(s.smin)
		} else {
			var ok bool
			if v, ok = truncateMax(s.smax); !ok {
				return false
			}
		}
		b, _ := json.Marshal(v)
		buf.Write(b)
	case statDecimal:
		v := s.dmax
		if lower {
			v = s.dmin
		}
		buf.WriteString(Decimal{Unscaled: v, Scale: s.scale}.String())
	case statDate:
		v := s.imax
		if lower {
			v = s.imin
		}
		buf.WriteString(`"` + time.Unix(v*86400, 0).UTC().Format("2006-01-02") + `"`)
	case statTimestamp, statTimestampNTZ:
		// Millisecond precision as Spark writes; the max is rounded up so it
		// stays an upper bound.
		v := s.imax
		if lower {
			v = floorDiv(s.imin, 1000)
		} else {
			v = -floorDiv(-v, 1000)
		}
		t := time.UnixMilli(v).UTC()
		if s.kind == statTimestamp {
			buf.WriteString(`"` + t.Format("2006-01-02T15:04:05.000Z07:00") + `"`)
		} else {
			buf.WriteString(`"` + t.Format("2006-01-02T15:04:05.000") + `"`)
		}
	default:
		return false
	}
	return true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// writeBounds writes {"col":bound,...} for a list of stats; false when
// nothing was written.
func writeBounds(buf *bytes.Buffer, stats []*colStat, lower bool) bool {
	start := buf.Len()
	buf.WriteByte('{')
	wrote := false
	for _, s := range stats {
		mark := buf.Len()
		if wrote {
			buf.WriteByte(',')
		}
		writeJSONString(buf, s.name)
		buf.WriteByte(':')
		var ok bool
		if s.kind == statStruct {
			ok = writeBounds(buf, s.children, lower)
		} else {
			ok = s.boundJSON(buf, lower)
		}
		if ok {
			wrote = true
		} else {
			buf.Truncate(mark)
		}
	}
	if !wrote {
		buf.Truncate(start)
		return false
	}
	buf.WriteByte('}')
	return true
}

func writeNullCounts(buf *bytes.Buffer, stats []*colStat) bool {
	start := buf.Len()
	buf.WriteByte('{')
	wrote := false
	for _, s := range stats {
		mark := buf.Len()
		if wrote {
			buf.WriteByte(',')
		}
		writeJSONString(buf, s.name)
		buf.WriteByte(':')
		if s.kind == statStruct {
			if !writeNullCounts(buf, s.children) {
				buf.Truncate(mark)
				continue
			}
		} else {
			buf.WriteString(strconv.FormatInt(s.nulls, 10))
		}
		wrote = true
	}
	if !wrote {
		buf.Truncate(start)
		return false
	}
	buf.WriteByte('}')
	return true
}

func writeJSONString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s)
	buf.Write(b)
}

// statsJSON renders the stats field of an add action.
func statsJSON(numRecords int64, stats []*colStat) string {
	var buf bytes.Buffer
	buf.WriteString(`{"numRecords":`)
	buf.WriteString(strconv.FormatInt(numRecords, 10))
	if len(stats) > 0 {
		mark := buf.Len()
		buf.WriteString(`,"minValues":`)
		if !writeBounds(&buf, stats, true) {
			buf.Truncate(mark)
		}
		mark = buf.Len()
		buf.WriteString(`,"maxValues":`)
		if !writeBounds(&buf, stats, false) {
			buf.Truncate(mark)
		}
		mark = buf.Len()
		buf.WriteString(`,"nullCount":`)
		if !writeNullCounts(&buf, stats) {
			buf.Truncate(mark)
		}
	}
	buf.WriteByte('}')
	return buf.String()
}
