package amconfig

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/template"
	"go.yaml.in/yaml/v2"

	"github.com/kansoku/kansoku/internal/egress"
	"github.com/kansoku/kansoku/internal/limits"
)

// MaxRepeatInterval is AMP's cap on a route's repeat_interval: longer values
// are treated as 5 days.
const MaxRepeatInterval = 5 * 24 * time.Hour

// Definition is AMP's Alertmanager definition file: the Alertmanager
// configuration under alertmanager_config, and the templates it names
// under template_files.
type Definition struct {
	TemplateFiles      map[string]string `yaml:"template_files"`
	AlertmanagerConfig string            `yaml:"alertmanager_config"`
}

// Parsed is a validated definition.
type Parsed struct {
	Definition
	Config *config.Config
}

// Parse validates a definition file with Alertmanager's own configuration
// loader and template parser, plus AMP's limits (templates, inhibit rules,
// routing-tree nodes) from the workspace's limits, and what a tenant may
// not configure (checkTenantSafe). With a firewall, destinations that are
// literal addresses it refuses are refused at once.
func Parse(data []byte, lim *limits.Limits, fw *egress.Firewall) (*Parsed, error) {
	var def Definition
	if err := yaml.UnmarshalStrict(data, &def); err != nil {
		return nil, fmt.Errorf("the definition must be YAML with the keys alertmanager_config and template_files: %w", err)
	}
	if strings.TrimSpace(def.AlertmanagerConfig) == "" {
		return nil, fmt.Errorf("alertmanager_config is missing or empty: the whole Alertmanager configuration goes under this key")
	}
	if lim.MaxTemplates > 0 && len(def.TemplateFiles) > lim.MaxTemplates {
		return nil, fmt.Errorf("template_files has %d templates; the limit is %d", len(def.TemplateFiles), lim.MaxTemplates)
	}
	names := make([]string, 0, len(def.TemplateFiles))
	for n := range def.TemplateFiles {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t, err := template.New()
		if err != nil {
			return nil, err
		}
		if err := t.Parse(strings.NewReader(def.TemplateFiles[n])); err != nil {
			return nil, fmt.Errorf("template_files[%q]: %w", n, err)
		}
	}
	cfg, err := config.Load(def.AlertmanagerConfig)
	if err != nil {
		return nil, fmt.Errorf("alertmanager_config: %w", err)
	}
	for _, pattern := range cfg.Templates {
		if len(matchTemplates(pattern, names)) == 0 {
			return nil, fmt.Errorf("alertmanager_config: templates names %q, which is not a key of template_files", pattern)
		}
	}
	if err := checkTenantSafe(cfg, fw); err != nil {
		return nil, err
	}
	if lim.MaxInhibitRules > 0 && len(cfg.InhibitRules) > lim.MaxInhibitRules {
		return nil, fmt.Errorf("alertmanager_config has %d inhibit rules; the limit is %d", len(cfg.InhibitRules), lim.MaxInhibitRules)
	}
	if n := countRoutes(cfg.Route); lim.MaxRouteNodes > 0 && n > lim.MaxRouteNodes {
		return nil, fmt.Errorf("alertmanager_config's routing tree has %d nodes; the limit is %d", n, lim.MaxRouteNodes)
	}
	for _, r := range cfg.Receivers {
		for i, sns := range r.SNSConfigs {
			if sns.Sigv4.Region == "" {
				return nil, fmt.Errorf("receiver %q: sns_configs[%d]: sigv4.region is required", r.Name, i)
			}
		}
	}
	return &Parsed{Definition: def, Config: cfg}, nil
}

func matchTemplates(pattern string, names []string) []string {
	var out []string
	for _, n := range names {
		if ok, _ := path.Match(pattern, n); ok || pattern == n {
			out = append(out, n)
		}
	}
	return out
}

// templateNames are the template_files entries the configuration uses.
func (p *Parsed) templateNames() []string {
	names := make([]string, 0, len(p.TemplateFiles))
	for n := range p.TemplateFiles {
		names = append(names, n)
	}
	sort.Strings(names)
	used := map[string]bool{}
	for _, pattern := range p.Config.Templates {
		for _, n := range matchTemplates(pattern, names) {
			used[n] = true
		}
	}
	out := names[:0]
	for _, n := range names {
		if used[n] {
			out = append(out, n)
		}
	}
	return out
}

func countRoutes(r *config.Route) int {
	if r == nil {
		return 0
	}
	n := 1
	for _, c := range r.Routes {
		n += countRoutes(c)
	}
	return n
}
