package scraper

import (
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	"go.yaml.in/yaml/v2"

	"github.com/kansoku/kansoku/internal/apierr"
)

// AMP's limits of a managed collector (seed 001, "スクレイパーの制限事項"),
// and the samples per scrape the brief adds.
const (
	MinScrapeInterval  = 30 * time.Second
	MaxBodySize        = 50 << 20 // 50 MB per /metrics response
	MaxSamplesPerScrap = 500000   // samples per scrape
	MaxTargets         = 30000    // endpoints per scraper
	MaxConfigBytes     = 1 << 20  // the decoded configuration blob
)

// The configuration sections a managed collector accepts: AMP's <global>,
// <scrape_config>, <static_config>, <relabel_config>,
// <metric_relabel_configs>, and the service discovery Kansoku can run. Every
// key outside these lists is refused with the key's name, so nothing reads
// a file of the server, writes one, or reaches a service the operator did
// not open.
var (
	topKeys    = []string{"global", "scrape_configs"}
	globalKeys = []string{"scrape_interval", "scrape_timeout", "external_labels", "body_size_limit", "sample_limit",
		"target_limit", "label_limit", "label_name_length_limit", "label_value_length_limit", "scrape_protocols", "evaluation_interval"}
	scrapeKeys = []string{"job_name", "scrape_interval", "scrape_timeout", "metrics_path", "scheme", "params", "honor_labels",
		"honor_timestamps", "track_timestamps_staleness", "static_configs", "ec2_sd_configs", "relabel_configs", "metric_relabel_configs",
		"body_size_limit", "sample_limit", "target_limit", "label_limit", "label_name_length_limit", "label_value_length_limit",
		"scrape_protocols", "fallback_scrape_protocol", "enable_compression", "tls_config", "authorization",
		"kubernetes_sd_configs"} // eks.go
	// authorization: an inline bearer credential only (Kansoku's own
	// /metrics takes an API token); AMP's service-account token file is a
	// file of the server here, so no *_file.
	authKeys = []string{"type", "credentials"}
	tlsKeys  = []string{"server_name", "insecure_skip_verify", "min_version", "max_version", "ca"}
)

// Parsed is a validated scraper configuration.
type Parsed struct {
	Config *promconfig.Config
	// Static is the number of static targets.
	Static int
	// EC2 are the jobs' ec2_sd_configs, by job name: Kansoku runs its own
	// EC2 discovery through an AWS integration's role (ec2sd.go), so they
	// are not in Config.
	EC2 map[string][]EC2SDConfig
}

// RoleARNs are the distinct role ARNs the configuration's EC2 discovery
// names.
func (p *Parsed) RoleARNs() []string {
	var out []string
	for _, cs := range p.EC2 {
		for _, c := range cs {
			if !slices.Contains(out, c.RoleARN) {
				out = append(out, c.RoleARN)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Validate parses a scraper's configuration blob and applies AMP's rules;
// the error is a ValidationException naming the problem.
func Validate(blob []byte) (*Parsed, error) {
	p, err := parse(blob)
	if err != nil {
		return nil, apierr.InvalidField("scrapeConfiguration", "%v", err)
	}
	return p, nil
}

func parse(blob []byte) (*Parsed, error) {
	if len(blob) == 0 {
		return nil, fmt.Errorf("configurationBlob is empty: give a Prometheus configuration (get-default-scraper-configuration has one)")
	}
	if len(blob) > MaxConfigBytes {
		return nil, fmt.Errorf("configurationBlob is %d bytes; at most %d are accepted", len(blob), MaxConfigBytes)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(blob, &raw); err != nil {
		return nil, fmt.Errorf("configurationBlob is not YAML: %w", err)
	}
	if err := allowedKeys("the configuration", raw, topKeys); err != nil {
		return nil, err
	}
	if g, ok := raw["global"]; ok && g != nil {
		gm, ok := g.(map[any]any)
		if !ok {
			return nil, fmt.Errorf("global must be a mapping")
		}
		if err := allowedKeysAny("global", gm, globalKeys); err != nil {
			return nil, err
		}
		if el, ok := gm["external_labels"].(map[any]any); ok {
			for k, v := range el {
				// Prometheus expands $VAR from its environment in external
				// labels: the server's environment is not the tenant's.
				if s, ok := v.(string); ok && strings.Contains(s, "$") {
					return nil, fmt.Errorf("global.external_labels.%v: values may not contain $ (no environment expansion in a managed collector)", k)
				}
			}
		}
	}
	jobs, _ := raw["scrape_configs"].([]any)
	if raw["scrape_configs"] != nil && jobs == nil {
		return nil, fmt.Errorf("scrape_configs must be a list")
	}
	if len(jobs) == 0 {
		return nil, fmt.Errorf("scrape_configs is empty: a scraper needs at least one job")
	}
	ec2 := map[string][]EC2SDConfig{}
	nEC2, nKube := 0, 0
	stripped := false
	for i, j := range jobs {
		jm, ok := j.(map[any]any)
		if !ok {
			return nil, fmt.Errorf("scrape_configs[%d] must be a mapping", i)
		}
		where := fmt.Sprintf("scrape_configs[%d]", i)
		name, named := jm["job_name"].(string)
		if named {
			where = fmt.Sprintf("job %q", name)
		}
		if err := allowedKeysAny(where, jm, scrapeKeys); err != nil {
			return nil, err
		}
		if raw, ok := jm["ec2_sd_configs"]; ok && raw == nil {
			delete(jm, "ec2_sd_configs") // an empty key, as Prometheus reads it
			stripped = true
		} else if ok {
			if !named {
				return nil, fmt.Errorf("%s: job_name is required", where)
			}
			cs, err := parseEC2(where, raw)
			if err != nil {
				return nil, err
			}
			nEC2 += len(cs)
			if nEC2 > MaxEC2SDConfigs {
				return nil, fmt.Errorf("%s: more than %d ec2_sd_configs in the configuration", where, MaxEC2SDConfigs)
			}
			ec2[name] = cs
			// Prometheus' loader does not know Kansoku's EC2 discovery:
			// it reads the rest.
			delete(jm, "ec2_sd_configs")
			stripped = true
		}
		if k, ok := jm["kubernetes_sd_configs"]; ok {
			n, err := checkKubernetesSD(where, k)
			if err != nil {
				return nil, err
			}
			if nKube += n; nKube > MaxKubernetesSDConfigs {
				return nil, fmt.Errorf("%s: more than %d kubernetes_sd_configs in the configuration", where, MaxKubernetesSDConfigs)
			}
		}
		if a, ok := jm["authorization"].(map[any]any); ok {
			if err := allowedKeysAny(where+": authorization", a, authKeys); err != nil {
				return nil, err
			}
			if t, ok := a["type"]; ok && t != "Bearer" {
				return nil, fmt.Errorf("%s: authorization type must be Bearer", where)
			}
		}
		if tc, ok := jm["tls_config"].(map[any]any); ok {
			if err := allowedKeysAny(where+": tls_config", tc, tlsKeys); err != nil {
				return nil, err
			}
		}
	}

	text := string(blob)
	if stripped {
		b, err := yaml.Marshal(raw)
		if err != nil {
			return nil, fmt.Errorf("configurationBlob: %w", err)
		}
		text = string(b)
	}
	cfg, err := promconfig.Load(text, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, fmt.Errorf("invalid Prometheus configuration: %w", err)
	}
	scfgs, err := cfg.GetScrapeConfigs()
	if err != nil {
		return nil, fmt.Errorf("invalid Prometheus configuration: %w", err)
	}
	if err := checkLimits("global", time.Duration(cfg.GlobalConfig.ScrapeInterval), int64(cfg.GlobalConfig.BodySizeLimit),
		cfg.GlobalConfig.SampleLimit, cfg.GlobalConfig.TargetLimit); err != nil {
		return nil, err
	}
	p := &Parsed{Config: cfg, EC2: ec2}
	for _, sc := range scfgs {
		where := fmt.Sprintf("job %q", sc.JobName)
		// Unset limits get AMP's: a target cannot send more than the
		// managed collector accepts.
		if sc.BodySizeLimit == 0 {
			sc.BodySizeLimit = MaxBodySize
		}
		if sc.SampleLimit == 0 {
			sc.SampleLimit = MaxSamplesPerScrap
		}
		if sc.TargetLimit == 0 {
			sc.TargetLimit = MaxTargets
		}
		if err := checkLimits(where, time.Duration(sc.ScrapeInterval), int64(sc.BodySizeLimit), sc.SampleLimit, sc.TargetLimit); err != nil {
			return nil, err
		}
		for _, c := range sc.ServiceDiscoveryConfigs {
			st, ok := c.(discovery.StaticConfig)
			if !ok {
				continue
			}
			for _, g := range st {
				if err := staticTargets(where, g); err != nil {
					return nil, err
				}
				p.Static += len(g.Targets)
			}
		}
	}
	if p.Static > MaxTargets {
		return nil, fmt.Errorf("the configuration lists %d static targets; a scraper scrapes at most %d endpoints", p.Static, MaxTargets)
	}
	// The changed limits are what runs.
	cfg.ScrapeConfigs = scfgs
	return p, nil
}

func checkLimits(where string, interval time.Duration, body int64, samples, targets uint) error {
	if interval != 0 && interval < MinScrapeInterval {
		return fmt.Errorf("%s: scrape_interval %s is below the minimum of 30s", where, model.Duration(interval))
	}
	if body > MaxBodySize {
		return fmt.Errorf("%s: body_size_limit %d bytes is above the limit of 50MB (%d bytes) per scrape", where, body, MaxBodySize)
	}
	if samples > MaxSamplesPerScrap {
		return fmt.Errorf("%s: sample_limit %d is above the limit of %d samples per scrape", where, samples, MaxSamplesPerScrap)
	}
	if targets > MaxTargets {
		return fmt.Errorf("%s: target_limit %d is above the limit of %d endpoints per scraper", where, targets, MaxTargets)
	}
	return nil
}

// staticTargets requires IP addresses, as AMP does: a name would be resolved
// by the server, in its own network.
func staticTargets(where string, g *targetgroup.Group) error {
	for _, t := range g.Targets {
		addr := string(t[model.AddressLabel])
		host := addr
		if ap, err := netip.ParseAddrPort(addr); err == nil {
			host = ap.Addr().String()
		} else if i := strings.LastIndexByte(addr, ':'); i > 0 && !strings.Contains(addr[:i], ":") {
			host = addr[:i]
		}
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Errorf("%s: static target %q is not an IP address (targets in static_configs must be IP addresses)", where, addr)
		}
	}
	return nil
}

func allowedKeys(where string, m map[string]any, allowed []string) error {
	var bad []string
	for k := range m {
		if !slices.Contains(allowed, k) {
			bad = append(bad, k)
		}
	}
	return refuseKeys(where, bad, allowed)
}

func allowedKeysAny(where string, m map[any]any, allowed []string) error {
	var bad []string
	for k := range m {
		ks := fmt.Sprint(k)
		if !slices.Contains(allowed, ks) {
			bad = append(bad, ks)
		}
	}
	return refuseKeys(where, bad, allowed)
}

func refuseKeys(where string, bad, allowed []string) error {
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	for i, b := range bad {
		if len(b) > 64 {
			bad[i] = b[:64] + "..."
		}
	}
	if strings.HasSuffix(bad[0], "_sd_configs") {
		return fmt.Errorf("%s: %s is not supported by this installation's managed collectors (supported: static_configs, ec2_sd_configs with a vpcConfiguration source, and kubernetes_sd_configs with an eksConfiguration source)", where, bad[0])
	}
	return fmt.Errorf("%s: %s not allowed in a managed collector's configuration (allowed: %s)", where, strings.Join(bad, ", "), strings.Join(allowed, ", "))
}
