package scraper

// DefaultConfiguration is GetDefaultScraperConfiguration's answer: a
// configuration this installation accepts as it is (AMP's default
// discovers an EKS cluster's pods with kubernetes_sd_configs, which Kansoku
// does not run). Replace the target with the address of your exporter, or
// the static_configs with ec2_sd_configs naming the role of an AWS
// integration of the destination workspace to discover EC2 instances in
// the scraper's subnets (docs/scrapers.md).
const DefaultConfiguration = `global:
  scrape_interval: 30s
  external_labels:
    source: kansoku-managed-scraper
scrape_configs:
  - job_name: node
    static_configs:
      - targets:
          - 192.0.2.10:9100
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: go_gc_.*
        action: drop
`
