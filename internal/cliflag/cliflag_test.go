package cliflag_test

import (
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"

	"github.com/kansoku/kansoku/internal/cliflag"
)

type section struct {
	Name     string         `yaml:"name"`
	On       bool           `yaml:"on"`
	Count    int            `yaml:"count"`
	Bytes    int64          `yaml:"bytes"`
	Wait     model.Duration `yaml:"wait"`
	Networks []string       `yaml:"networks"`
}

func defaults() section {
	return section{Name: "default", On: true, Count: 25, Bytes: 64, Wait: model.Duration(time.Minute)}
}

func (s *section) register(f *cliflag.Flags) {
	f.String("x.name", "a name", &s.Name)
	f.Bool("x.on", "a switch", &s.On)
	f.Int("x.count", "a count", &s.Count)
	f.Int64("x.bytes", "bytes", &s.Bytes)
	f.Duration("x.wait", "a wait", &s.Wait)
	f.Strings("x.network", "a network; repeatable", &s.Networks)
}

// parse runs the server's sequence: flags into the struct; then, with a
// file, defaults, the file over them and the given flags again.
func parse(t *testing.T, args []string, file string) (section, *kingpin.ParseContext) {
	t.Helper()
	app := kingpin.New("t", "")
	cmd := app.Command("server", "")
	cfg := defaults()
	cfg.register(cliflag.New(cmd))
	var pc *kingpin.ParseContext
	cmd.Action(func(c *kingpin.ParseContext) error { pc = c; return nil })
	if _, err := app.Parse(append([]string{"server"}, args...)); err != nil {
		t.Fatal(err)
	}
	if file != "" {
		cfg = defaults()
		if err := yaml.UnmarshalStrict([]byte(file), &cfg); err != nil {
			t.Fatal(err)
		}
		if err := cliflag.Reapply(pc); err != nil {
			t.Fatal(err)
		}
	}
	return cfg, pc
}

func TestFlagsOverFileOverDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		file string
		want section
	}{
		{"defaults", nil, "", defaults()},
		{"flags only", []string{"--x.name=cli", "--no-x.on", "--x.count=3", "--x.bytes=9", "--x.wait=2h", "--x.network=10.0.0.0/8", "--x.network=127.0.0.0/8"}, "",
			section{Name: "cli", On: false, Count: 3, Bytes: 9, Wait: model.Duration(2 * time.Hour), Networks: []string{"10.0.0.0/8", "127.0.0.0/8"}}},
		{"file over defaults", nil, "name: file\non: false\nwait: 5m\nnetworks: [192.168.0.0/16]\n",
			section{Name: "file", On: false, Count: 25, Bytes: 64, Wait: model.Duration(5 * time.Minute), Networks: []string{"192.168.0.0/16"}}},
		{"given flags win over the file, others keep the file", []string{"--x.on", "--x.count=7", "--x.network=10.0.0.0/8"}, "name: file\non: false\ncount: 1\nwait: 5m\n",
			section{Name: "file", On: true, Count: 7, Bytes: 64, Wait: model.Duration(5 * time.Minute), Networks: []string{"10.0.0.0/8"}}},
		{"a flag equal to the default still wins over the file", []string{"--x.count=25"}, "count: 1\n",
			func() section { s := defaults(); s.Count = 25; return s }()},
		{"a repeated flag adds to the file's list once", []string{"--x.network=10.0.0.0/8"}, "networks: [192.168.0.0/16]\n",
			func() section { s := defaults(); s.Networks = []string{"192.168.0.0/16", "10.0.0.0/8"}; return s }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := parse(t, tc.args, tc.file)
			gy, _ := yaml.Marshal(got)
			wy, _ := yaml.Marshal(tc.want)
			if string(gy) != string(wy) {
				t.Fatalf("got\n%s\nwant\n%s", gy, wy)
			}
		})
	}
}

func TestGiven(t *testing.T) {
	_, pc := parse(t, []string{"--x.name=a"}, "")
	if !cliflag.Given(pc, "x.name") || cliflag.Given(pc, "x.count") || cliflag.Given(nil, "x.name") {
		t.Fatal("Given does not follow the command line")
	}
}

func TestBadValuesAreRefused(t *testing.T) {
	for _, args := range [][]string{{"--x.count=many"}, {"--x.wait=soon"}, {"--x.bytes=1.5"}} {
		app := kingpin.New("t", "")
		cmd := app.Command("server", "")
		cfg := defaults()
		cfg.register(cliflag.New(cmd))
		if _, err := app.Parse(append([]string{"server"}, args...)); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func TestHelpShowsDefaults(t *testing.T) {
	app := kingpin.New("t", "")
	cmd := app.Command("server", "")
	cfg := defaults()
	cfg.register(cliflag.New(cmd))
	var b strings.Builder
	app.UsageWriter(&b)
	app.Terminate(nil)
	if _, err := app.Parse([]string{"help", "server"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a name (default: default)", "a count (default: 25)", "a wait (default: 1m)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, b.String())
		}
	}
}
