package tmplbound

import (
	"reflect"
	"strings"
	"time"
	"unicode/utf8"
)

// A value's weight is an upper bound of the size of its text: as fmt
// prints it (%v), as fmt prints it in Go syntax (%#v), or as encoding/json
// encodes it. It is computed by walking the value, and stops as soon as it
// exceeds the limit it is given, so weighing costs at most that limit
// however the value is shaped (a list holding the same list twice, n times
// over, has 2^n paths). The structures list, append, dict and args build
// record their weight (Budget.weights), so weighing them is one look-up.
type mode int

const (
	modeFmt mode = iota
	modeGo
	modeJSON
)

// Weights of the leaves, in bytes.
const (
	wNil     = 10 // "<nil>", "null", "<no value>"
	wBool    = 5
	wNumber  = 32 // an integer, a float as %v or JSON prints it, a duration
	wComplex = 64
	wPointer = 20 // an address, as fmt prints nested pointers
	wTime    = 96 // time.Time: "2006-01-02 15:04:05.999999999 -0700 MST m=+0.000000001"
	wNode    = 64 // per node, %#v: the type name
	maxDepth = 1000
)

var (
	timeType     = reflect.TypeFor[time.Time]()
	locationType = reflect.TypeFor[time.Location]()
)

// weigh returns the weight of v in mode m, or a number above limit as soon
// as it is known to exceed limit. It charges a step per 64 nodes visited.
func (b *Budget) weigh(v reflect.Value, m mode, limit int) int {
	w := walker{b: b, mode: m, limit: limit}
	w.walk(v, 0)
	_ = b.Steps(w.visits >> 6)
	return w.n
}

// weighAll is the sum of the weights of vs (plus one separator each) in
// both fmt and JSON modes, each capped just above limit.
func (b *Budget) weighAll(vs []any, limit int) (fmtW, jsonW int) {
	for _, a := range vs {
		v := reflect.ValueOf(a)
		if fmtW <= limit {
			fmtW += b.weigh(v, modeFmt, limit-fmtW) + 1
		}
		if jsonW <= limit {
			jsonW += b.weigh(v, modeJSON, limit-jsonW) + 1
		}
	}
	return fmtW, jsonW
}

// remember records the weights of a structure this package's functions
// built.
func (b *Budget) remember(v any, fmtW, jsonW int) {
	if id, ok := identify(reflect.ValueOf(v)); ok {
		b.weights[id] = weighed{fmt: fmtW, json: jsonW, ref: v}
	}
}

func identify(v reflect.Value) (identity, bool) {
	switch v.Kind() {
	case reflect.Slice:
		if v.Len() == 0 {
			return identity{}, false
		}
		return identity{ptr: v.Pointer(), len: v.Len()}, true
	case reflect.Map:
		if v.IsNil() {
			return identity{}, false
		}
		return identity{ptr: v.Pointer(), len: -1}, true
	}
	return identity{}, false
}

type walker struct {
	b      *Budget
	mode   mode
	limit  int
	n      int
	visits int
}

func (w *walker) add(n int) bool {
	w.n += n
	return w.n <= w.limit
}

// walk adds the weight of v; depth is the nesting of v (fmt prints nested
// pointers as addresses).
func (w *walker) walk(v reflect.Value, depth int) {
	if w.n > w.limit {
		return
	}
	w.visits++
	if depth > maxDepth {
		w.n = w.limit + 1
		return
	}
	if !v.IsValid() {
		w.add(wNil)
		return
	}
	switch v.Type() {
	case timeType:
		w.add(wTime)
		return
	case locationType:
		w.add(wNode)
		return
	}
	if w.mode == modeGo && !w.add(wNode) {
		return
	}
	switch v.Kind() {
	case reflect.String:
		w.str(v.String())
	case reflect.Bool:
		w.add(wBool)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		w.add(wNumber)
	case reflect.Complex64, reflect.Complex128:
		w.add(wComplex)
	case reflect.Pointer:
		switch {
		case v.IsNil():
			w.add(wNil)
		case w.mode == modeJSON || depth == 0 || isStringer(v.Type()):
			// JSON follows pointers; fmt does at the top and for
			// values whose String or Error method it calls.
			w.add(1)
			w.walk(v.Elem(), depth+1)
		default:
			w.add(wPointer)
		}
	case reflect.Interface:
		if v.IsNil() {
			w.add(wNil)
			return
		}
		w.walk(v.Elem(), depth)
	case reflect.Slice, reflect.Array:
		w.list(v, depth)
	case reflect.Map:
		w.dict(v, depth)
	case reflect.Struct:
		w.record(v, depth)
	default: // chan, func, unsafe pointer
		w.add(wPointer)
	}
}

func (w *walker) memo(v reflect.Value) bool {
	id, ok := identify(v)
	if !ok {
		return false
	}
	m, ok := w.b.weights[id]
	if !ok {
		return false
	}
	switch w.mode {
	case modeFmt:
		w.add(m.fmt)
	case modeJSON:
		w.add(m.json)
	default:
		return false // %#v names every type: walk it
	}
	return true
}

func (w *walker) str(s string) {
	switch w.mode {
	case modeFmt:
		w.add(len(s))
	case modeGo:
		w.add(4*len(s) + 2) // strconv.Quote: \x00 for a byte at worst
	case modeJSON:
		w.add(jsonStringLen(s))
	}
}

func (w *walker) list(v reflect.Value, depth int) {
	if v.Kind() == reflect.Slice && v.IsNil() {
		w.add(wNil)
		return
	}
	if v.Type().Elem().Kind() == reflect.Uint8 {
		switch w.mode {
		case modeJSON:
			w.add(4*(v.Len()+2)/3 + 2) // base64
		default:
			w.add(4*v.Len() + 2) // [1 2 3]
		}
		return
	}
	if v.Kind() == reflect.Slice && w.memo(v) {
		return
	}
	if !w.add(2) {
		return
	}
	for i := 0; i < v.Len() && w.n <= w.limit; i++ {
		w.add(1)
		w.walk(v.Index(i), depth+1)
	}
}

func (w *walker) dict(v reflect.Value, depth int) {
	if v.IsNil() {
		w.add(wNil)
		return
	}
	if w.memo(v) {
		return
	}
	if !w.add(5) {
		return
	}
	it := v.MapRange()
	for it.Next() && w.n <= w.limit {
		w.add(3)
		w.walk(it.Key(), depth+1)
		w.walk(it.Value(), depth+1)
	}
}

func (w *walker) record(v reflect.Value, depth int) {
	if !w.add(2) {
		return
	}
	t := v.Type()
	for i := 0; i < t.NumField() && w.n <= w.limit; i++ {
		f := t.Field(i)
		if w.mode == modeJSON && !f.IsExported() {
			continue
		}
		name := len(f.Name)
		if w.mode == modeJSON {
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if tag == "-" {
				continue
			}
			name = max(name, len(tag))
		}
		w.add(name + 4)
		w.walk(v.Field(i), depth+1)
	}
}

// jsonStringLen bounds the length of s encoded as a JSON string:
// encoding/json escapes control characters, quotes, backslashes and <, >,
// & as \u00XX, invalid UTF-8 as \ufffd, U+2028 and U+2029 as \u2028.
func jsonStringLen(s string) int {
	n := 2
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				n += 6
			} else {
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			n += 6
		case r == '\u2028' || r == '\u2029':
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n
}
