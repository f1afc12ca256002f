package amconfig

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/template"
)

// checkTenantSafe refuses the parts of an Alertmanager configuration that
// would reach into the server rather than the tenant's own receivers:
// every *_file setting (a webhook with bearer_token_file: /etc/... would
// send a server file to the tenant's URL), AWS shared-config profiles of
// the server, and the process-wide tracing and event recorder sections.
func checkTenantSafe(cfg *config.Config) error {
	if !reflect.ValueOf(cfg.TracingConfig).IsZero() {
		return fmt.Errorf("alertmanager_config: tracing is a server setting and cannot be set in a workspace definition")
	}
	if !reflect.ValueOf(cfg.EventRecorder).IsZero() {
		return fmt.Errorf("alertmanager_config: event_recorder is a server setting and cannot be set in a workspace definition")
	}
	for _, r := range cfg.Receivers {
		for i, c := range r.SNSConfigs {
			// The server's own AWS credentials only ever sign requests to the
			// server's SNS endpoint.
			if c.APIUrl != "" && c.Sigv4.AccessKey == "" && c.Sigv4.RoleARN == "" {
				return fmt.Errorf("alertmanager_config: receiver %q: sns_configs[%d]: api_url needs the receiver's own credentials (sigv4.access_key and secret_key, or sigv4.role_arn)", r.Name, i)
			}
		}
	}
	return walk(reflect.ValueOf(cfg), "", map[uintptr]bool{})
}

func walk(v reflect.Value, path string, seen map[uintptr]bool) error {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		if seen[v.Pointer()] {
			return nil
		}
		seen[v.Pointer()] = true
		return walk(v.Elem(), path, seen)
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return walk(v.Elem(), path, seen)
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := strings.Split(f.Tag.Get("yaml"), ",")[0]
			fv := v.Field(i)
			if name == "" || name == "-" {
				if err := walk(fv, path, seen); err != nil { // inlined struct
					return err
				}
				continue
			}
			p := name
			if path != "" {
				p = path + "." + name
			}
			if fv.Kind() == reflect.String && fv.String() != "" {
				if strings.HasSuffix(name, "_file") || strings.HasSuffix(name, "_files") {
					return fmt.Errorf("alertmanager_config: %s: settings read from files on the server are not allowed; put the value itself in the definition", p)
				}
				if name == "profile" && strings.HasSuffix(path, "sigv4") {
					return fmt.Errorf("alertmanager_config: %s: AWS shared-config profiles of the server are not allowed; use access_key/secret_key or role_arn", p)
				}
			}
			if err := walk(fv, p, seen); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if err := walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i), seen); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			if err := walk(iter.Value(), fmt.Sprintf("%s[%v]", path, iter.Key()), seen); err != nil {
				return err
			}
		}
	}
	return nil
}

// Templates returns the definition's templates: Alertmanager's defaults
// plus every template_files entry named by alertmanager_config's templates
// list (names or glob patterns), in name order.
func (p *Parsed) Templates() (*template.Template, error) {
	t, err := template.FromGlobs(nil) // Alertmanager's default templates
	if err != nil {
		return nil, err
	}
	for _, n := range p.templateNames() {
		if err := t.Parse(strings.NewReader(p.TemplateFiles[n])); err != nil {
			return nil, fmt.Errorf("template_files[%q]: %v", n, err)
		}
	}
	return t, nil
}
