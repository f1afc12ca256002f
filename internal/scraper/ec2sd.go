package scraper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/refresh"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	"github.com/prometheus/prometheus/util/strutil"
	"go.yaml.in/yaml/v2"
)

// EC2 discovery of a managed scraper: Prometheus' ec2_sd_configs, run by
// Kansoku through the role of an AWS integration of the destination
// workspace (assumed with the integration's External ID), restricted to
// the scraper's subnets. Prometheus' own ec2 discoverer takes its
// credentials from the process (the default chain, a static key, a
// profile), which would let a tenant use Kansoku's identity; this one
// has no other way to AWS than the integration.

// Bounds of EC2 discovery (tenant input).
const (
	MinEC2RefreshInterval     = 30 * time.Second
	DefaultEC2RefreshInterval = 60 * time.Second
	MaxEC2SDConfigs           = 10  // ec2_sd_configs entries in a configuration
	maxEC2Filters             = 50  // filters of an entry
	maxEC2FilterValues        = 200 // values of a filter (EC2's own limit)
	maxEC2FilterLen           = 255 // bytes of a filter name or value
	ec2PageSize               = 1000
	// maxEC2Pages bounds DescribeInstances pagination: enough pages for
	// MaxTargets instances.
	maxEC2Pages = MaxTargets/ec2PageSize + 1
)

// ec2Keys are the keys of an ec2_sd_configs entry a managed collector
// accepts. Credentials (access_key, secret_key, profile, external_id),
// endpoint and the HTTP client's keys are refused: the integration's role
// is the only way to AWS.
var ec2Keys = []string{"region", "role_arn", "port", "filters", "refresh_interval"}

var (
	ec2RegionRE = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$`)
	// ec2FilterNameRE: EC2's filter names (instance-state-name,
	// tag:<key>, network-interface.subnet-id ...).
	ec2FilterNameRE = regexp.MustCompile(`^[A-Za-z0-9][-A-Za-z0-9.:_ /+=@]*$`)
)

// EC2SDConfig is one ec2_sd_configs entry.
type EC2SDConfig struct {
	Region          string         `yaml:"region,omitempty"`
	RoleARN         string         `yaml:"role_arn"`
	Port            int            `yaml:"port,omitempty"`
	Filters         []EC2Filter    `yaml:"filters,omitempty"`
	RefreshInterval model.Duration `yaml:"refresh_interval,omitempty"`
}

// EC2Filter is a DescribeInstances filter.
type EC2Filter struct {
	Name   string   `yaml:"name"`
	Values []string `yaml:"values"`
}

// parseEC2 reads a job's ec2_sd_configs.
func parseEC2(where string, raw any) ([]EC2SDConfig, error) {
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: ec2_sd_configs must be a list", where)
	}
	if len(list) > MaxEC2SDConfigs {
		return nil, fmt.Errorf("%s: more than %d ec2_sd_configs", where, MaxEC2SDConfigs)
	}
	out := make([]EC2SDConfig, 0, len(list))
	for i, e := range list {
		at := fmt.Sprintf("%s: ec2_sd_configs[%d]", where, i)
		m, ok := e.(map[any]any)
		if !ok {
			return nil, fmt.Errorf("%s must be a mapping", at)
		}
		if err := allowedKeysAny(at, m, ec2Keys); err != nil {
			return nil, err
		}
		b, err := yaml.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		var c EC2SDConfig
		if err := yaml.UnmarshalStrict(b, &c); err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		if err := c.check(at); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// check validates an entry and sets its defaults (Prometheus': port 80,
// refresh every 60 s).
func (c *EC2SDConfig) check(at string) error {
	if c.RoleARN == "" {
		return fmt.Errorf("%s: role_arn is required: the role ARN of an AWS integration of the destination workspace (its role is assumed with the integration's External ID)", at)
	}
	if len(c.RoleARN) > 2048 || !roleRE.MatchString(c.RoleARN) {
		return fmt.Errorf("%s: role_arn %q is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)", at, truncate(c.RoleARN))
	}
	if c.Region != "" && !ec2RegionRE.MatchString(c.Region) {
		return fmt.Errorf("%s: region %q is not an AWS region name (us-east-1 ...)", at, truncate(c.Region))
	}
	if c.Port == 0 {
		c.Port = 80
	}
	if c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf("%s: port %d is not a TCP port (1-65535)", at, c.Port)
	}
	if c.RefreshInterval == 0 {
		c.RefreshInterval = model.Duration(DefaultEC2RefreshInterval)
	}
	if time.Duration(c.RefreshInterval) < MinEC2RefreshInterval {
		return fmt.Errorf("%s: refresh_interval %s is below the minimum of 30s", at, c.RefreshInterval)
	}
	if len(c.Filters) > maxEC2Filters {
		return fmt.Errorf("%s: at most %d filters", at, maxEC2Filters)
	}
	for i, f := range c.Filters {
		if f.Name == "" || len(f.Name) > maxEC2FilterLen || !ec2FilterNameRE.MatchString(f.Name) {
			return fmt.Errorf("%s: filters[%d]: name %q is not an EC2 DescribeInstances filter name", at, i, truncate(f.Name))
		}
		if len(f.Values) == 0 {
			return fmt.Errorf("%s: filters[%d] (%s): values cannot be empty", at, i, f.Name)
		}
		if len(f.Values) > maxEC2FilterValues {
			return fmt.Errorf("%s: filters[%d] (%s): at most %d values", at, i, f.Name, maxEC2FilterValues)
		}
		for _, v := range f.Values {
			if len(v) > maxEC2FilterLen {
				return fmt.Errorf("%s: filters[%d] (%s): a value is longer than %d bytes", at, i, f.Name, maxEC2FilterLen)
			}
			// The scraper's subnets bound discovery; a subnet filter
			// narrows them, by exact id.
			if f.Name == "subnet-id" && !subnetRE.MatchString(v) {
				return fmt.Errorf("%s: filters[%d] (subnet-id): %q is not a subnet id (discovery is bound to the scraper's subnets; name some of them exactly, no wildcards)", at, i, truncate(v))
			}
		}
	}
	return nil
}

// Integrations gives scrapers the AWS integrations of their destination
// workspace (awsint.Service): EC2 discovery finds one by its role, an
// EKS source by its cluster's account; both reach AWS through its role.
type Integrations interface {
	// RoleIntegration returns the id of the role integration of
	// workspace ws whose role is roleARN.
	RoleIntegration(ctx context.Context, ws, roleARN string) (string, error)
	// AccountIntegration returns the id of the role integration of
	// workspace ws with AWS account acct, or why it has none.
	AccountIntegration(ctx context.Context, ws, acct string) (string, error)
	// RoleConfig returns the SDK configuration of the integration's role
	// for region ("": the integration's first region).
	RoleConfig(ctx context.Context, id, region string) (aws.Config, error)
}

// ec2Env is what the EC2 discoverers of one running scraper share.
type ec2Env struct {
	integrations Integrations
	ws           string
	subnets      []string
	// static is the number of the scraper's static targets: with what EC2
	// discovery finds, at most MaxTargets.
	static  int
	refresh discovery.RefreshMetricsManager
	// logf writes to the scraper's log (its logging configuration).
	logf   func(level, msg string, fields map[string]string)
	logger *slog.Logger

	// maxTargets, pageSize and maxPages bound a refresh (MaxTargets,
	// ec2PageSize, maxEC2Pages).
	maxTargets, pageSize, maxPages int

	mu     sync.Mutex
	counts map[*ec2Discoverer]int // targets of each discoverer's last good refresh
}

func newEC2Env(integrations Integrations, ws string, subnets []string, static int, logger *slog.Logger,
	logf func(level, msg string, fields map[string]string)) *ec2Env {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &ec2Env{integrations: integrations, ws: ws, subnets: subnets, static: static, logger: logger, logf: logf,
		// Not registered anywhere: the scraper's registry holds the
		// discovery manager's own refresh metrics under these names.
		refresh: discovery.NewRefreshMetrics(prometheus.NewRegistry()), counts: map[*ec2Discoverer]int{},
		maxTargets: MaxTargets, pageSize: ec2PageSize, maxPages: maxEC2Pages}
}

// ec2SD is the discovery.Config the runner puts in place of an
// ec2_sd_configs entry.
type ec2SD struct {
	cfg EC2SDConfig
	job string
	env *ec2Env
}

// Name implements discovery.Config: Prometheus' mechanism name.
func (*ec2SD) Name() string { return "ec2" }

// NewDiscovererMetrics implements discovery.Config. The refresh metrics
// come from the scraper's own RefreshMetricsManager (ec2Env): "ec2" is not
// a registered mechanism, so the manager has none to hand out.
func (*ec2SD) NewDiscovererMetrics(prometheus.Registerer, discovery.RefreshMetricsInstantiator) discovery.DiscovererMetrics {
	return &discovery.NoopDiscovererMetrics{}
}

// NewDiscoverer implements discovery.Config.
func (c *ec2SD) NewDiscoverer(opts discovery.DiscovererOptions) (discovery.Discoverer, error) {
	d := &ec2Discoverer{cfg: c.cfg, job: c.job, env: c.env}
	logger := opts.Logger
	if logger == nil {
		logger = c.env.logger
	}
	return refresh.NewDiscovery(refresh.Options{Logger: logger, Mech: "ec2", SetName: opts.SetName,
		Interval: time.Duration(c.cfg.RefreshInterval), RefreshF: d.refresh, MetricsInstantiator: c.env.refresh}), nil
}

type ec2Discoverer struct {
	cfg EC2SDConfig
	job string
	env *ec2Env

	// zoneIDs maps the zone names of zonesRegion to their ids
	// (DescribeAvailabilityZones), read until it once succeeds, as
	// Prometheus does. Refreshes of one discoverer do not overlap.
	zoneIDs     map[string]string
	zonesRegion string
}

// errEC2TooMany: discovery found more instances than a scraper scrapes.
var errEC2TooMany = errors.New("too many instances")

// refresh lists the instances and returns them as one target group. An
// error (AccessDenied, a deleted integration, too many instances) is
// written to the scraper's log and returned: the discovery manager keeps
// the last good target groups, as Prometheus' ec2 discovery does.
func (d *ec2Discoverer) refresh(ctx context.Context) ([]*targetgroup.Group, error) {
	// One refresh at most takes its interval.
	lctx, cancel := context.WithTimeout(ctx, time.Duration(d.cfg.RefreshInterval))
	defer cancel()
	tg, err := d.list(lctx)
	if err != nil {
		if ctx.Err() == nil {
			d.env.logf("ERROR", "ec2 discovery failed; the previous targets are kept", map[string]string{
				"job": d.job, "role_arn": d.cfg.RoleARN, "error": err.Error()})
		}
		return nil, err
	}
	d.env.mu.Lock()
	prev, seen := d.env.counts[d]
	d.env.counts[d] = len(tg.Targets)
	d.env.mu.Unlock()
	if !seen || prev != len(tg.Targets) {
		d.env.logf("INFO", "ec2 discovery found instances", map[string]string{"job": d.job, "targets": strconv.Itoa(len(tg.Targets))})
	}
	return []*targetgroup.Group{tg}, nil
}

// subnets are the subnet-id filter's values: the scraper's subnets, or
// those of them the configuration's own subnet-id filters name.
func (d *ec2Discoverer) subnets() []string {
	out := slices.Clone(d.env.subnets)
	for _, f := range d.cfg.Filters {
		if f.Name == "subnet-id" {
			out = slices.DeleteFunc(out, func(s string) bool { return !slices.Contains(f.Values, s) })
		}
	}
	return out
}

func (d *ec2Discoverer) list(ctx context.Context) (*targetgroup.Group, error) {
	id, err := d.env.integrations.RoleIntegration(ctx, d.env.ws, d.cfg.RoleARN)
	if err != nil {
		return nil, fmt.Errorf("role %s: %w", d.cfg.RoleARN, err)
	}
	cfg, err := d.env.integrations.RoleConfig(ctx, id, d.cfg.Region)
	if err != nil {
		return nil, err
	}
	region := cfg.Region
	tg := &targetgroup.Group{Source: "ec2/" + region + "/" + d.cfg.RoleARN}
	subnets := d.subnets()
	if len(subnets) == 0 {
		// The configuration's subnet-id filter names none of the
		// scraper's subnets.
		return tg, nil
	}
	filters := []ec2types.Filter{{Name: aws.String("subnet-id"), Values: subnets}}
	for _, f := range d.cfg.Filters {
		if f.Name != "subnet-id" {
			filters = append(filters, ec2types.Filter{Name: aws.String(f.Name), Values: f.Values})
		}
	}
	// What the scraper's other EC2 discoverers found counts too: a
	// scraper scrapes at most MaxTargets endpoints.
	d.env.mu.Lock()
	limit := d.env.maxTargets - d.env.static
	for o, n := range d.env.counts {
		if o != d {
			limit -= n
		}
	}
	d.env.mu.Unlock()

	client := ec2.NewFromConfig(cfg)
	if d.zoneIDs == nil || d.zonesRegion != region {
		d.zoneIDs, d.zonesRegion = nil, region
		// Without ec2:DescribeAvailabilityZones the zone id label stays
		// empty, as in Prometheus.
		if out, err := client.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{}); err == nil {
			d.zoneIDs = map[string]string{}
			for _, z := range out.AvailabilityZones {
				if z.ZoneName != nil && z.ZoneId != nil {
					d.zoneIDs[*z.ZoneName] = *z.ZoneId
				}
			}
		} else {
			d.env.logger.Debug("describe availability zones", "job", d.job, "err", err)
		}
	}
	in := &ec2.DescribeInstancesInput{Filters: filters, MaxResults: aws.Int32(int32(d.env.pageSize))}
	for page := 0; ; page++ {
		if page == d.env.maxPages {
			return nil, fmt.Errorf("DescribeInstances returned more than %d pages of %d: %w", d.env.maxPages, d.env.pageSize, errEC2TooMany)
		}
		out, err := client.DescribeInstances(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("describe instances in %s: %w", region, err)
		}
		for _, r := range out.Reservations {
			for i := range r.Instances {
				t := ec2Target(&r.Instances[i], r.OwnerId, region, d.cfg.Port, d.zoneIDs)
				if t == nil {
					continue
				}
				if len(tg.Targets) >= limit {
					return nil, fmt.Errorf("the scraper's EC2 discovery found more than %d instances (a scraper scrapes at most %d endpoints; narrow the filters): %w",
						limit, d.env.maxTargets, errEC2TooMany)
				}
				tg.Targets = append(tg.Targets, t)
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	return tg, nil
}

// Labels of Prometheus' ec2 discovery (discovery/aws/ec2.go).
const (
	ec2Meta              = model.MetaLabelPrefix + "ec2_"
	ec2AMI               = ec2Meta + "ami"
	ec2AZ                = ec2Meta + "availability_zone"
	ec2AZID              = ec2Meta + "availability_zone_id"
	ec2Arch              = ec2Meta + "architecture"
	ec2IPv6Addresses     = ec2Meta + "ipv6_addresses"
	ec2InstanceID        = ec2Meta + "instance_id"
	ec2InstanceLifecycle = ec2Meta + "instance_lifecycle"
	ec2InstanceState     = ec2Meta + "instance_state"
	ec2InstanceType      = ec2Meta + "instance_type"
	ec2OwnerID           = ec2Meta + "owner_id"
	ec2Platform          = ec2Meta + "platform"
	ec2DefaultIPv6       = ec2Meta + "default_ipv6_address"
	ec2PrimaryIPv6       = ec2Meta + "primary_ipv6_addresses"
	ec2PrimarySubnetID   = ec2Meta + "primary_subnet_id"
	ec2PrivateDNS        = ec2Meta + "private_dns_name"
	ec2PrivateIP         = ec2Meta + "private_ip"
	ec2PublicDNS         = ec2Meta + "public_dns_name"
	ec2PublicIP          = ec2Meta + "public_ip"
	ec2Region            = ec2Meta + "region"
	ec2SubnetID          = ec2Meta + "subnet_id"
	ec2Tag               = ec2Meta + "tag_"
	ec2VPCID             = ec2Meta + "vpc_id"
	ec2Sep               = ","
)

// ec2Target is an instance as Prometheus' ec2 discovery makes it a
// target: the address is the private IPv4 address and the port (the
// instance's first IPv6 address when it has no private IPv4 one); an
// instance with neither is skipped (nil). zoneIDs maps zone names to zone
// ids (__meta_ec2_availability_zone_id, empty when unknown).
func ec2Target(in *ec2types.Instance, owner *string, region string, port int, zoneIDs map[string]string) model.LabelSet {
	defaultIPv6, primaryIPv6, ipv6 := ec2IPv6(in)
	if in.PrivateIpAddress == nil && defaultIPv6 == "" {
		return nil
	}
	ls := model.LabelSet{ec2Region: model.LabelValue(region)}
	set := func(name string, v *string) {
		if v != nil {
			ls[model.LabelName(name)] = model.LabelValue(*v)
		}
	}
	set(ec2InstanceID, in.InstanceId)
	set(ec2OwnerID, owner)
	if defaultIPv6 != "" {
		ls[ec2DefaultIPv6] = model.LabelValue(defaultIPv6)
	}
	if in.PrivateIpAddress != nil {
		ls[ec2PrivateIP] = model.LabelValue(*in.PrivateIpAddress)
		ls[model.AddressLabel] = model.LabelValue(net.JoinHostPort(*in.PrivateIpAddress, strconv.Itoa(port)))
	} else {
		ls[model.AddressLabel] = model.LabelValue(net.JoinHostPort(defaultIPv6, strconv.Itoa(port)))
	}
	set(ec2PrivateDNS, in.PrivateDnsName)
	if in.Platform != "" {
		ls[ec2Platform] = model.LabelValue(in.Platform)
	}
	if in.PublicIpAddress != nil {
		ls[ec2PublicIP] = model.LabelValue(*in.PublicIpAddress)
		set(ec2PublicDNS, in.PublicDnsName)
	}
	if primaryIPv6 != nil {
		ls[ec2PrimaryIPv6] = model.LabelValue(ec2Sep + strings.Join(primaryIPv6, ec2Sep) + ec2Sep)
	}
	if ipv6 != nil {
		ls[ec2IPv6Addresses] = model.LabelValue(ec2Sep + strings.Join(ipv6, ec2Sep) + ec2Sep)
	}
	set(ec2AMI, in.ImageId)
	if in.Placement != nil && in.Placement.AvailabilityZone != nil {
		ls[ec2AZ] = model.LabelValue(*in.Placement.AvailabilityZone)
		ls[ec2AZID] = model.LabelValue(zoneIDs[*in.Placement.AvailabilityZone])
	}
	if in.State != nil {
		ls[ec2InstanceState] = model.LabelValue(in.State.Name)
	}
	ls[ec2InstanceType] = model.LabelValue(in.InstanceType)
	if in.InstanceLifecycle != "" {
		ls[ec2InstanceLifecycle] = model.LabelValue(in.InstanceLifecycle)
	}
	if in.Architecture != "" {
		ls[ec2Arch] = model.LabelValue(in.Architecture)
	}
	if in.VpcId != nil {
		ls[ec2VPCID] = model.LabelValue(*in.VpcId)
		set(ec2PrimarySubnetID, in.SubnetId)
		// Every subnet of the instance's interfaces, once each, in EC2's
		// order.
		var subnets []string
		for _, eni := range in.NetworkInterfaces {
			if eni.SubnetId != nil && !slices.Contains(subnets, *eni.SubnetId) {
				subnets = append(subnets, *eni.SubnetId)
			}
		}
		ls[ec2SubnetID] = model.LabelValue(ec2Sep + strings.Join(subnets, ec2Sep) + ec2Sep)
	}
	for _, t := range in.Tags {
		if t.Key == nil || t.Value == nil {
			continue
		}
		ls[model.LabelName(ec2Tag+strutil.SanitizeLabelName(*t.Key))] = model.LabelValue(*t.Value)
	}
	return ls
}

// ec2IPv6 returns an instance's IPv6 addresses as Prometheus' ec2
// discovery reads them: the default one (the first primary address, else
// the first address), the primary ones by device index, and all.
func ec2IPv6(in *ec2types.Instance) (string, []string, []string) {
	if in.VpcId == nil {
		return "", nil, nil
	}
	var primary, all []string
	for _, eni := range in.NetworkInterfaces {
		if eni.SubnetId == nil {
			continue
		}
		for _, a := range eni.Ipv6Addresses {
			if a.Ipv6Address == nil {
				continue
			}
			all = append(all, *a.Ipv6Address)
			if !aws.ToBool(a.IsPrimaryIpv6) || eni.Attachment == nil || eni.Attachment.DeviceIndex == nil || *eni.Attachment.DeviceIndex < 0 {
				continue
			}
			idx := int(*eni.Attachment.DeviceIndex)
			if idx > 64 {
				continue // device indexes are small; a larger one is not a slot to grow to
			}
			for len(primary) <= idx {
				primary = append(primary, "")
			}
			primary[idx] = *a.Ipv6Address
		}
	}
	for _, a := range append(slices.Clone(primary), all...) {
		if a != "" {
			return a, primary, all
		}
	}
	return "", primary, all
}

// ec2SDConfigs returns a job's discovery configurations with its EC2
// discovery added.
func ec2SDConfigs(env *ec2Env, job string, base discovery.Configs, cs []EC2SDConfig) discovery.Configs {
	out := slices.Clone(base)
	for _, c := range cs {
		out = append(out, &ec2SD{cfg: c, job: job, env: env})
	}
	return out
}
