package catalog

import (
	"fmt"
	"strings"
)

// productList is every product the integration collects: Mackerel's 28,
// in the order of its list of supported products. Adding a product is an
// entry here, its definition (data, and a discovery call), and the
// simulator's kind and API for it.
func productList() []*Product {
	return []*Product{
		ec2Product(), clbProduct(), albProduct(), nlbProduct(), rdsProduct(), elastiCacheProduct(), redshiftProduct(),
		lambdaProduct(), sqsProduct(), dynamoDBProduct(), cloudFrontProduct(), apiGatewayProduct(), kinesisProduct(),
		s3Product(), openSearchProduct(), ecsProduct(), sesProduct(), statesProduct(), efsProduct(), firehoseProduct(),
		batchProduct(), wafProduct(), billingProduct(), route53Product(), connectProduct(), docDBProduct(), codeBuildProduct(),
		athenaProduct(),
	}
}

// maxPages bounds every listing of a discovery: an account whose listing
// takes more pages than this is reported, not read forever.
const maxPages = 1000

// pageGuard counts the pages of one listing.
type pageGuard struct {
	what string
	n    int
}

func (g *pageGuard) next() error {
	g.n++
	if g.n > maxPages {
		return fmt.Errorf("%s: more than %d pages; stopped", g.what, maxPages)
	}
	return nil
}

func tagMap[T any](tags []T, kv func(T) (string, string)) map[string]string {
	out := map[string]string{}
	for _, t := range tags {
		k, v := kv(t)
		out[k] = v
	}
	return out
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// burstable reports whether an instance class is a burstable (T) one:
// t3.micro, db.t4g.medium, cache.t3.small ...
func burstable(class string) bool {
	class = strings.TrimPrefix(strings.TrimPrefix(class, "db."), "cache.")
	return strings.HasPrefix(class, "t")
}
