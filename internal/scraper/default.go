package scraper

// DefaultConfiguration is GetDefaultScraperConfiguration's answer: AMP's
// default for an EKS cluster (the configuration AMP's documentation and
// GetDefaultScraperConfiguration give), less what this installation
// refuses. It runs with an eksConfiguration source: its jobs discover the
// cluster's pods with kubernetes_sd_configs. AMP's other default jobs
// (cAdvisor through the API server's node proxy, the API server's,
// scheduler's and controller manager's metrics) read the pod's
// service-account token and CA from files, which a managed collector here
// may not name.
// For a vpcConfiguration source, use static_configs, or ec2_sd_configs
// naming the role of an AWS integration of the destination workspace to
// discover the EC2 instances of the scraper's subnets (docs/scrapers.md).
const DefaultConfiguration = `global:
  scrape_interval: 30s
  # external_labels:
  #   clusterArn: <REPLACE_ME>
scrape_configs:
  # pod metrics
  - job_name: pod_exporter
    kubernetes_sd_configs:
      - role: pod
  # kube proxy metrics
  - job_name: kube-proxy
    honor_labels: true
    kubernetes_sd_configs:
      - role: pod
    relabel_configs:
      - action: keep
        source_labels:
          - __meta_kubernetes_namespace
          - __meta_kubernetes_pod_name
        separator: '/'
        regex: 'kube-system/kube-proxy.+'
      - source_labels:
          - __address__
        action: replace
        target_label: __address__
        regex: '(.+?)(\:\d+)?'
        replacement: $1:10249
`
