package tmplbound

import (
	"reflect"
	"unicode/utf8"
)

// fmtOverhead covers what fmt adds around an operand: a sign, a 0x
// prefix, an exponent, "%!v(BADWIDTH)", "%!d(string=" and the like.
const fmtOverhead = 32

// printBound bounds the length of fmt.Sprint(args...): the operands and a
// space between each two.
func (b *Budget) printBound(args []any) int {
	limit := b.valueLimit()
	n := 0
	for _, a := range args {
		if n > limit {
			break
		}
		n += b.weigh(reflect.ValueOf(a), modeFmt, limit-n) + 1
	}
	return n
}

// printfBound bounds the length of fmt.Sprintf(format, args...). It reads
// the format as fmt does (fmt.(*pp).doPrintf): flags, argument indexes,
// widths and precisions (fmt refuses more than 1e6), verbs; each verb
// adds its width, its precision and its operand's weight, multiplied for
// the verbs that expand their operand (%q, %x, %X, %#v).
func (b *Budget) printfBound(format string, args []any) int {
	limit := b.valueLimit()
	end := len(format)
	argNum := 0
	afterIndex := false
	reordered := false
	n := 0
	for i := 0; i < end && n <= limit; {
		lasti := i
		for i < end && format[i] != '%' {
			i++
		}
		n += i - lasti
		if i >= end {
			break
		}
		i++ // the %
		var f verbFlags
	flags:
		for ; i < end; i++ {
			switch format[i] {
			case '#':
				f.sharp = true
			case '+':
				f.plus = true
			case ' ':
				f.space = true
			case '0', '-':
			default:
				break flags
			}
		}
		good := true
		index := func() {
			var ok bool
			if i < end && format[i] == '[' {
				reordered = true
			}
			argNum, i, afterIndex, ok = argNumber(argNum, format, i, len(args))
			good = good && ok
		}
		index()
		width := 0
		if i < end && format[i] == '*' {
			i++
			width = intArg(args, argNum)
			argNum++
			afterIndex = false
		} else {
			var present bool
			width, present, i = parsenum(format, i, end)
			if !present {
				width = 0
			} else if afterIndex {
				good = false // "%[3]2d"
			}
		}
		if i+1 <= end && format[i] == '.' {
			i++
			if afterIndex {
				good = false // "%[3].2d"
			}
			index()
			if i < end && format[i] == '*' {
				i++
				f.prec, f.hasPrec = intArg(args, argNum), true
				argNum++
				afterIndex = false
			} else {
				f.prec, _, i = parsenum(format, i, end)
				f.hasPrec = true
			}
		}
		if !afterIndex {
			index()
		}
		if i >= end {
			n += fmtOverhead // %!(NOVERB)
			break
		}
		verb, size := utf8.DecodeRuneInString(format[i:])
		i += size
		n += width + fmtOverhead
		switch {
		case verb == '%':
			n++
		case !good, argNum >= len(args):
			// %!v(BADINDEX), %!v(MISSING)
		default:
			n += b.operandBound(verb, f, args[argNum], limit-n)
			argNum++
		}
	}
	if !reordered && argNum < len(args) {
		// %!(EXTRA type=value, ...)
		for _, a := range args[argNum:] {
			if n > limit {
				break
			}
			n += fmtOverhead + typeLen(a) + b.weigh(reflect.ValueOf(a), modeFmt, limit-n)
		}
	}
	return n
}

type verbFlags struct {
	sharp, plus, space bool
	prec               int
	hasPrec            bool
}

// operandBound bounds what one verb prints of its operand a.
func (b *Budget) operandBound(verb rune, f verbFlags, a any, limit int) int {
	v := reflect.ValueOf(a)
	var w int
	if s, ok := stringish(v); ok {
		w = s
		if f.hasPrec { // precision truncates strings (runes; bytes for %x)
			switch verb {
			case 'x', 'X':
				w = min(w, f.prec)
			default:
				w = min(w, utf8.UTFMax*f.prec)
			}
		}
	} else if verb == 'v' && f.sharp {
		w = b.weigh(v, modeGo, limit)
	} else {
		w = b.weigh(v, modeFmt, limit)
	}
	switch verb {
	case 'q':
		w = 6*w + 2 // strconv.Quote: \x00 per byte, \U0010ffff per 4 bytes; per element for lists
	case 'x', 'X':
		w = 5*w + 2 // % #x: " 0x00" per byte
	case 'T':
		w = typeLen(a)
	case 'e', 'E', 'f', 'F', 'g', 'G', 'b':
		w = max(w, 330) // %f of 1e308 has 309 digits
	}
	return w + f.prec + typeLen(a)
}

// stringish returns the length of a string or byte slice operand.
func stringish(v reflect.Value) (int, bool) {
	if !v.IsValid() || isStringer(v.Type()) {
		return 0, false
	}
	switch {
	case v.Kind() == reflect.String:
		return v.Len(), true
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
		return 4*v.Len() + 2, true // [1 2 3] with %v
	}
	return 0, false
}

func typeLen(a any) int {
	if a == nil {
		return len("<nil>")
	}
	return len(reflect.TypeOf(a).String())
}

// tooLarge, parsenum, parseArgNumber, argNumber and intFromArg are fmt's
// (src/fmt/print.go, format.go), so that the format is read as fmt reads
// it.

func tooLarge(x int) bool {
	const max int = 1e6
	return x > max || x < -max
}

func parsenum(s string, start, end int) (num int, isnum bool, newi int) {
	if start >= end {
		return 0, false, end
	}
	for newi = start; newi < end && '0' <= s[newi] && s[newi] <= '9'; newi++ {
		if tooLarge(num) {
			return 0, false, end
		}
		num = num*10 + int(s[newi]-'0')
		isnum = true
	}
	return
}

func parseArgNumber(format string) (index int, wid int, ok bool) {
	if len(format) < 3 {
		return 0, 1, false
	}
	for i := 1; i < len(format); i++ {
		if format[i] == ']' {
			width, ok, newi := parsenum(format, 1, i)
			if !ok || newi != i {
				return 0, i + 1, false
			}
			return width - 1, i + 1, true
		}
	}
	return 0, 1, false
}

// argNumber returns the next argument to format, the position after an
// [n] index, whether an index was found, and whether it is a good one.
func argNumber(argNum int, format string, i int, numArgs int) (newArgNum, newi int, found, good bool) {
	if len(format) <= i || format[i] != '[' {
		return argNum, i, false, true
	}
	index, wid, ok := parseArgNumber(format[i:])
	if ok && 0 <= index && index < numArgs {
		return index, i + wid, true, true
	}
	return argNum, i + wid, ok, false
}

// intArg is the absolute value of the width or precision fmt takes from
// args[argNum] for a '*', 0 when fmt would not use it.
func intArg(args []any, argNum int) int {
	if argNum >= len(args) {
		return 0
	}
	var num int
	switch v := reflect.ValueOf(args[argNum]); v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := v.Int()
		if int64(int(n)) != n {
			return 0
		}
		num = int(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n := v.Uint()
		if int64(n) < 0 || uint64(int(n)) != n {
			return 0
		}
		num = int(n)
	default:
		return 0
	}
	if tooLarge(num) {
		return 0
	}
	if num < 0 {
		num = -num
	}
	return num
}
