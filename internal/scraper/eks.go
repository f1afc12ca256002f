package scraper

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"

	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/discovery/kubernetes" // registers kubernetes_sd_configs

	"github.com/kansoku/kansoku/internal/apierr"
)

// An eksConfiguration source is an Amazon EKS cluster: its scrape jobs
// discover targets with kubernetes_sd_configs against the cluster's API
// server, as AMP's managed collectors do. Kansoku reaches the cluster
// through a role integration of the scraper's destination workspace whose
// AWS account is the cluster's (awsint.Service.AccountIntegration, then
// RoleConfig): it calls
// EKS DescribeCluster for the endpoint and CA, and authenticates to the
// API server with the EKS IAM authenticator's token (a presigned STS
// GetCallerIdentity). The discovery itself is Prometheus'
// discovery/kubernetes, pointed at a gateway (gateway.go) that adds the
// token, checks the cluster's CA and dials through the scrapers'
// firewall.

// eksNameRE is EKS's cluster name pattern.
var eksNameRE = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$`)

// clusterRef is an EKS cluster ARN's parts.
type clusterRef struct {
	ARN, Partition, Region, Account, Name string
}

func parseClusterARN(arn string) (clusterRef, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || !clusterRE.MatchString(arn) {
		return clusterRef{}, false
	}
	name, ok := strings.CutPrefix(parts[5], "cluster/")
	if !ok || !eksNameRE.MatchString(name) {
		return clusterRef{}, false
	}
	return clusterRef{ARN: arn, Partition: parts[1], Region: parts[3], Account: parts[4], Name: name}, true
}

// The keys of a kubernetes_sd_config a managed collector accepts. The API
// server and its credentials are the cluster's (api_server,
// kubeconfig_file and every HTTP client key are Kansoku's to set), and
// own_namespace means the namespace of a pod Kansoku does not run in.
var (
	kubernetesSDKeys = []string{"role", "namespaces", "selectors"}
	kubernetesNSKeys = []string{"names"}
	kubernetesSelKey = []string{"role", "label", "field"}
	kubernetesRoles  = []string{"pod", "node", "service", "endpoints", "endpointslice", "ingress"}
)

// Bounds of kubernetes_sd_configs: each entry watches the cluster once
// per namespace (an endpoints role also watches its pods and services),
// each watch a connection and a goroutine of this process. Selectors
// need none of their own: Prometheus takes one per role.
const (
	MaxKubernetesSDConfigs  = 10 // kubernetes_sd_configs entries in a configuration
	maxKubernetesNamespaces = 50 // namespaces.names of an entry
)

// checkKubernetesSD checks a job's kubernetes_sd_configs as written and
// returns how many entries it has.
func checkKubernetesSD(where string, v any) (int, error) {
	list, ok := v.([]any)
	if !ok {
		return 0, fmt.Errorf("%s: kubernetes_sd_configs must be a list", where)
	}
	for i, c := range list {
		at := fmt.Sprintf("%s: kubernetes_sd_configs[%d]", where, i)
		m, ok := c.(map[any]any)
		if !ok {
			return 0, fmt.Errorf("%s must be a mapping", at)
		}
		if err := allowedKeysAny(at, m, kubernetesSDKeys); err != nil {
			return 0, err
		}
		if r, _ := m["role"].(string); !slices.Contains(kubernetesRoles, r) {
			return 0, fmt.Errorf("%s: role %q is not one of %s", at, truncate(fmt.Sprint(m["role"])), strings.Join(kubernetesRoles, ", "))
		}
		if ns, ok := m["namespaces"]; ok && ns != nil {
			nm, ok := ns.(map[any]any)
			if !ok {
				return 0, fmt.Errorf("%s: namespaces must be a mapping", at)
			}
			if err := allowedKeysAny(at+": namespaces", nm, kubernetesNSKeys); err != nil {
				return 0, err
			}
			if names, _ := nm["names"].([]any); len(names) > maxKubernetesNamespaces {
				return 0, fmt.Errorf("%s: at most %d namespaces.names", at, maxKubernetesNamespaces)
			}
		}
		if sel, ok := m["selectors"]; ok && sel != nil {
			sl, ok := sel.([]any)
			if !ok {
				return 0, fmt.Errorf("%s: selectors must be a list", at)
			}
			for j, s := range sl {
				sm, ok := s.(map[any]any)
				if !ok {
					return 0, fmt.Errorf("%s: selectors[%d] must be a mapping", at, j)
				}
				if err := allowedKeysAny(fmt.Sprintf("%s: selectors[%d]", at, j), sm, kubernetesSelKey); err != nil {
					return 0, err
				}
			}
		}
	}
	return len(list), nil
}

// kubernetesConfigs returns the parsed configuration's kubernetes SD
// configurations, to be pointed at the cluster.
func kubernetesConfigs(p *Parsed) []*kubernetes.SDConfig {
	var out []*kubernetes.SDConfig
	for _, sc := range p.Config.ScrapeConfigs {
		for _, c := range sc.ServiceDiscoveryConfigs {
			if k, ok := c.(*kubernetes.SDConfig); ok {
				out = append(out, k)
			}
		}
	}
	return out
}

// checkSourceFits refuses kubernetes_sd_configs without an EKS source:
// the API server they discover through is the cluster's.
func checkSourceFits(p *Parsed, src *Source) error {
	if len(kubernetesConfigs(p)) > 0 && (src == nil || src.EKS == nil) {
		return apierr.InvalidField("scrapeConfiguration", "kubernetes_sd_configs needs an eksConfiguration source: the targets are discovered through that cluster's API server")
	}
	if len(p.EC2) > 0 && (src == nil || src.VPC == nil) {
		return apierr.InvalidField("scrapeConfiguration", "ec2_sd_configs needs a vpcConfiguration source: discovery is bound to its subnets")
	}
	return nil
}

// checkCluster refuses an EKS source Kansoku cannot reach: the cluster's
// account must be one the destination workspace has an AWS integration
// with.
func (s *Service) checkCluster(ctx context.Context, src *Source, ws string) error {
	if src == nil || src.EKS == nil {
		return nil
	}
	ref, _ := parseClusterARN(src.EKS.ClusterARN)
	if s.opts.Integrations == nil {
		return apierr.InvalidField("source.eksConfiguration", "this installation has no AWS integration service to reach EKS clusters through")
	}
	if _, err := s.opts.Integrations.AccountIntegration(ctx, ws, ref.Account); err != nil {
		return apierr.InvalidField("source.eksConfiguration.clusterArn",
			"the cluster's account %s is not reachable from the destination workspace: %v (register an AWS integration of that account in workspace %s; its role needs eks:DescribeCluster and an EKS access entry)",
			ref.Account, err, ws)
	}
	return nil
}

// connectCluster points an EKS scraper's kubernetes_sd_configs at a
// gateway to its cluster (gateway.go).
func (r *Runner) connectCluster(sc Scraper, in *instance, p *Parsed, logger *slog.Logger) error {
	ks := kubernetesConfigs(p)
	if len(ks) == 0 {
		return nil
	}
	var ref clusterRef
	ok := sc.Source.EKS != nil
	if ok {
		ref, ok = parseClusterARN(sc.Source.EKS.ClusterARN)
	}
	accounts := r.opts.Service.opts.Integrations
	if !ok || accounts == nil {
		return fmt.Errorf("scraper %s: kubernetes_sd_configs without a reachable EKS source", sc.ID)
	}
	gw, err := startGateway(ref, sc.WorkspaceID, accounts, r.opts.Firewall, logger.With("manager", "cluster-gateway"),
		func(level, msg string, fields map[string]string) { in.log(r, "SERVICE_DISCOVERY", level, msg, fields) })
	if err != nil {
		return err
	}
	in.gw = gw
	u, err := url.Parse(gw.url)
	if err != nil {
		gw.close()
		return err
	}
	for _, k := range ks {
		k.APIServer = config_util.URL{URL: u}
		k.HTTPClientConfig = config_util.HTTPClientConfig{
			Authorization:   &config_util.Authorization{Type: "Bearer", Credentials: config_util.Secret(gw.secret)},
			FollowRedirects: false,
		}
	}
	return nil
}
