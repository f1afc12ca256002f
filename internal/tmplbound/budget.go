package tmplbound

import (
	"errors"
	"fmt"
	"reflect"
	"time"
)

// Limits bound one execution (a dry run may execute several templates
// against one Budget: they share it). Zero means no limit.
type Limits struct {
	// MaxOutputBytes is the total text the templates may produce.
	MaxOutputBytes int
	// MaxValueBytes is the largest string a pipeline command may return,
	// and the largest weight of a structure built with list, dict, args...
	MaxValueBytes int
	// MaxSteps counts lists executed (every loop iteration, every template
	// call, every if/with branch taken) and commands executed, plus one
	// step per KiB of the values commands return.
	MaxSteps int
	// Timeout is the wall-clock time the execution may take from NewBudget.
	Timeout time.Duration
}

// LimitError is the error of an execution that reached a bound.
type LimitError struct {
	msg string
}

func (e *LimitError) Error() string { return e.msg }

// IsLimit reports whether err is, or wraps, a *LimitError.
func IsLimit(err error) bool {
	var le *LimitError
	return errors.As(err, &le)
}

// Budget is what one execution may still spend. It is not safe for
// concurrent use: an execution is one goroutine.
type Budget struct {
	lim      Limits
	deadline time.Time
	steps    int
	output   int
	calls    int
	err      *LimitError
	// weights of the structures built by list, append, dict and args,
	// by identity; ref keeps each alive so its address is not reused.
	weights map[identity]weighed
}

type identity struct {
	ptr uintptr
	len int
}

type weighed struct {
	fmt, json int
	ref       any
}

// NewBudget returns a Budget for one execution starting now.
func NewBudget(lim Limits) *Budget {
	b := &Budget{lim: lim, weights: map[identity]weighed{}}
	if lim.Timeout > 0 {
		b.deadline = time.Now().Add(lim.Timeout)
	}
	return b
}

// Err returns the bound the execution reached, nil if none.
func (b *Budget) Err() error {
	if b.err == nil {
		return nil
	}
	return b.err
}

// Used returns the steps taken and the output bytes counted so far.
func (b *Budget) Used() (steps, outputBytes int) { return b.steps, b.output }

func (b *Budget) fail(msg string, args ...any) error {
	if b.err == nil {
		b.err = &LimitError{msg: fmt.Sprintf(msg, args...)}
	}
	return b.err
}

func (b *Budget) outputError() error {
	return b.fail("template output exceeds max_template_output_bytes (%d bytes)", b.lim.MaxOutputBytes)
}

func (b *Budget) valueError(size int) error {
	return b.fail("a template value of %d bytes or more exceeds max_template_output_bytes (%d bytes)", size, b.lim.MaxValueBytes)
}

// Steps charges n steps.
func (b *Budget) Steps(n int) error {
	if b.err != nil {
		return b.err
	}
	b.steps += n
	if b.lim.MaxSteps > 0 && b.steps > b.lim.MaxSteps {
		return b.fail("template exceeds max_template_steps (%d steps)", b.lim.MaxSteps)
	}
	return nil
}

// Output counts n bytes of output (text produced outside an instrumented
// execution, such as a label value without actions).
func (b *Budget) Output(n int) error {
	if b.err != nil {
		return b.err
	}
	b.output += n
	if b.lim.MaxOutputBytes > 0 && b.output > b.lim.MaxOutputBytes {
		return b.outputError()
	}
	return nil
}

// Value checks a value of n bytes against the value cap and charges a step
// per KiB of it.
func (b *Budget) Value(n int) error {
	if b.err != nil {
		return b.err
	}
	if b.lim.MaxValueBytes > 0 && n > b.lim.MaxValueBytes {
		return b.valueError(n)
	}
	return b.Steps(n >> 10)
}

// checkTime fails once the deadline has passed.
func (b *Budget) checkTime() error {
	if b.err != nil {
		return b.err
	}
	if !b.deadline.IsZero() && time.Now().After(b.deadline) {
		return b.fail("template took longer than %s", b.lim.Timeout)
	}
	return nil
}

// step is {{__kansoku_step}}: one list executed.
func (b *Budget) step() (string, error) {
	if err := b.Steps(1); err != nil {
		return "", err
	}
	if b.steps&31 == 0 {
		return "", b.checkTime()
	}
	return "", nil
}

// text is {{__kansoku_text N}}: N bytes of text about to be written.
func (b *Budget) text(n int) (string, error) {
	return "", b.Output(n)
}

// out is `| __kansoku_out` at the end of a printing action: it counts what
// text/template will print for v and returns v unchanged.
func (b *Budget) out(v reflect.Value) (reflect.Value, error) {
	if b.err != nil {
		return v, b.err
	}
	p, ok := printable(v)
	if !ok {
		return v, nil // text/template refuses to print it
	}
	n := 0
	if s, ok := p.(string); ok {
		n = len(s)
	} else if pv := reflect.ValueOf(p); pv.Kind() == reflect.String && !isStringer(pv.Type()) {
		n = pv.Len()
	} else {
		// Weigh before formatting, so that printing a huge structure
		// fails without building its text.
		limit := b.lim.MaxOutputBytes - b.output
		if b.lim.MaxOutputBytes <= 0 {
			limit = maxInt
		}
		if w := b.weigh(pv, modeFmt, limit); w > limit {
			return v, b.outputError()
		}
		n = len(fmt.Sprint(p))
	}
	return v, b.Output(n)
}

// val is `| __kansoku_val` after every command: the command is a step, its
// value's size is checked against the value cap and charged as a step per
// KiB; v is returned unchanged.
func (b *Budget) val(v reflect.Value) (reflect.Value, error) {
	if b.err != nil {
		return v, b.err
	}
	b.calls++
	if b.calls&15 == 0 {
		if err := b.checkTime(); err != nil {
			return v, err
		}
	}
	if b.lim.MaxValueBytes > 0 && byteSize(v) > b.lim.MaxValueBytes {
		return v, b.valueError(byteSize(v))
	}
	return v, b.Steps(1 + byteSize(v)>>10)
}

// join is `__kansoku_join RECEIVER` before a command calling
// RECEIVER.Join(sep): when the receiver is a list of strings, the result's
// size is checked before Join builds it. sep is returned unchanged.
func (b *Budget) join(recv, sep reflect.Value) (reflect.Value, error) {
	if b.err != nil {
		return sep, b.err
	}
	r, _ := indirect(recv)
	s, _ := indirect(sep)
	if r.Kind() != reflect.Slice || r.Type().Elem().Kind() != reflect.String || s.Kind() != reflect.String {
		return sep, nil
	}
	n := 0
	if r.Len() > 0 {
		n = (r.Len() - 1) * s.Len()
		for i := 0; i < r.Len(); i++ {
			n += r.Index(i).Len()
		}
	}
	return sep, b.Value(n)
}

// printable is what text/template prints for v (its printableValue):
// pointers are followed, an invalid value prints "<no value>", methods
// String and Error are used when the value or its address has them;
// channels and functions are not printed.
func printable(v reflect.Value) (any, bool) {
	if v.Kind() == reflect.Pointer {
		v, _ = indirect(v)
	}
	if !v.IsValid() {
		return "<no value>", true
	}
	if !v.Type().Implements(errorType) && !v.Type().Implements(stringerType) {
		if v.CanAddr() && (reflect.PointerTo(v.Type()).Implements(errorType) || reflect.PointerTo(v.Type()).Implements(stringerType)) {
			v = v.Addr()
		} else {
			switch v.Kind() {
			case reflect.Chan, reflect.Func:
				return nil, false
			}
		}
	}
	if !v.CanInterface() {
		return nil, false
	}
	return v.Interface(), true
}

// indirect follows pointers and interfaces as text/template does.
func indirect(v reflect.Value) (rv reflect.Value, isNil bool) {
	for ; v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface; v = v.Elem() {
		if v.IsNil() {
			return v, true
		}
	}
	return v, false
}

// byteSize is the length of a string or byte slice value, 0 for others.
func byteSize(v reflect.Value) int {
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	switch {
	case v.Kind() == reflect.String:
		return v.Len()
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
		return v.Len()
	}
	return 0
}

var (
	errorType    = reflect.TypeFor[error]()
	stringerType = reflect.TypeFor[fmt.Stringer]()
)

func isStringer(t reflect.Type) bool {
	return t.Implements(stringerType) || t.Implements(errorType)
}

const maxInt = int(^uint(0) >> 1)
