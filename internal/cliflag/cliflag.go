// Package cliflag binds command-line flags to the fields of components'
// configuration structs, so that a component registers its own flags next
// to its Config and the server reads flags and its YAML file through one
// mechanism: defaults, then the file, then the flags the user gave.
//
// A flag is bound with no kingpin default: a flag that was not given leaves
// its field as the defaults or the file set it. Reapply sets again every
// flag of a parse after the file was loaded over the same struct, so the
// command line wins over the file without a hand-kept list of overrides.
package cliflag

import (
	"fmt"
	"strings"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/model"
)

// Flags registers flags on one command.
type Flags struct{ cmd *kingpin.CmdClause }

// New returns the registrar of cmd's flags.
func New(cmd *kingpin.CmdClause) *Flags { return &Flags{cmd: cmd} }

func (f *Flags) flag(name, help string, def any) *kingpin.FlagClause {
	if s := fmt.Sprint(def); s != "" && s != "0" && s != "0s" && s != "[]" {
		help = fmt.Sprintf("%s (default: %s)", help, s)
	}
	return f.cmd.Flag(name, help)
}

// String binds a string flag to dst.
func (f *Flags) String(name, help string, dst *string) {
	f.flag(name, help, *dst).StringVar(dst)
}

// Bool binds a boolean flag (--name / --no-name) to dst.
func (f *Flags) Bool(name, help string, dst *bool) {
	f.flag(name, help, *dst).BoolVar(dst)
}

// Int binds an integer flag to dst.
func (f *Flags) Int(name, help string, dst *int) {
	f.flag(name, help, *dst).IntVar(dst)
}

// Int64 binds an integer flag to dst.
func (f *Flags) Int64(name, help string, dst *int64) {
	f.flag(name, help, *dst).Int64Var(dst)
}

// Float64 binds a number flag to dst.
func (f *Flags) Float64(name, help string, dst *float64) {
	f.flag(name, help, *dst).Float64Var(dst)
}

// Duration binds a Prometheus-style duration flag (1m, 2h, 30d) to dst.
func (f *Flags) Duration(name, help string, dst *model.Duration) {
	f.flag(name, help, *dst).SetValue((*durationValue)(dst))
}

// Strings binds a repeatable flag to dst; each occurrence adds one value
// (to what the defaults or the file hold).
func (f *Flags) Strings(name, help string, dst *[]string) {
	def := ""
	if len(*dst) > 0 {
		def = strings.Join(*dst, ",")
	}
	f.flag(name, help, def).StringsVar(dst)
}

// Reapply sets again every flag the user gave in pc, in order, over
// whatever was loaded into the bound fields since the parse (the YAML
// file): flags win over the file.
func Reapply(pc *kingpin.ParseContext) error {
	for _, el := range pc.Elements {
		fc, ok := el.Clause.(*kingpin.FlagClause)
		if !ok || el.Value == nil {
			continue
		}
		if err := fc.Model().Value.Set(*el.Value); err != nil {
			return fmt.Errorf("--%s: %w", fc.Model().Name, err)
		}
	}
	return nil
}

type durationValue model.Duration

func (d *durationValue) Set(s string) error {
	v, err := model.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = durationValue(v)
	return nil
}

func (d *durationValue) String() string { return model.Duration(*d).String() }

// Given reports whether the user gave flag name in pc.
func Given(pc *kingpin.ParseContext, name string) bool {
	if pc == nil {
		return false
	}
	for _, el := range pc.Elements {
		if fc, ok := el.Clause.(*kingpin.FlagClause); ok && fc.Model().Name == name {
			return true
		}
	}
	return false
}
