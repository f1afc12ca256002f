package awssim

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// rdsRegion has 23 standalone MySQL instances (more than the smallest
// page, 20), an Aurora PostgreSQL cluster of two instances and an empty
// Aurora MySQL cluster.
func rdsRegion() *Region {
	rg := &Region{}
	for i := range 23 {
		rg.DBInstances = append(rg.DBInstances, DBInstance{
			ID: fmt.Sprintf("mysql-%02d", i), Engine: "mysql", EngineVersion: "8.0.39", Class: "db.t4g.micro",
			AvailabilityZone: "ap-northeast-1a", Tags: Tags{"n": fmt.Sprint(i)},
		})
	}
	rg.DBInstances = append(rg.DBInstances,
		DBInstance{ID: "orders-1", Engine: "aurora-postgresql", EngineVersion: "16.4", Class: "db.r6g.large",
			AvailabilityZone: "ap-northeast-1c", Cluster: "orders", Tags: Tags{"role": "writer"}},
		DBInstance{ID: "orders-2", Engine: "aurora-postgresql", EngineVersion: "16.4", Class: "db.r6g.large",
			AvailabilityZone: "ap-northeast-1d", Cluster: "orders", Status: "backing-up"},
	)
	rg.DBClusters = []DBCluster{
		{ID: "orders", Engine: "aurora-postgresql", EngineVersion: "16.4", Tags: Tags{"env": "prod", "app": "orders"}},
		{ID: "empty", Engine: "aurora-mysql", Status: "stopped"},
	}
	return rg
}

func TestRDSInstancesWithSDK(t *testing.T) {
	sim, ts := newResServer(t, rdsRegion(), "")
	c := rds.NewFromConfig(resConfig(ts.URL, resReaderKey, resReaderSecret))
	ctx := context.Background()

	var all []rdstypes.DBInstance
	pages := 0
	p := rds.NewDescribeDBInstancesPaginator(c, &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(20)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, out.DBInstances...)
	}
	if pages != 2 || len(all) != 25 {
		t.Fatalf("%d pages, %d instances", pages, len(all))
	}
	tagged := taggingARNs(sim, "rds")
	byID := map[string]rdstypes.DBInstance{}
	for _, db := range all {
		byID[aws.ToString(db.DBInstanceIdentifier)] = db
		if !tagged[aws.ToString(db.DBInstanceArn)] {
			t.Errorf("ARN %s is not the tagging API's", aws.ToString(db.DBInstanceArn))
		}
	}
	if len(byID) != 25 {
		t.Errorf("pages overlap: %d distinct instances", len(byID))
	}
	m := byID["mysql-07"]
	host := regexp.MustCompile(`^mysql-07\.([a-z0-9]{12})\.ap-northeast-1\.rds\.amazonaws\.com$`).FindStringSubmatch(aws.ToString(m.Endpoint.Address))
	if host == nil || aws.ToInt32(m.Endpoint.Port) != 3306 || aws.ToString(m.Engine) != "mysql" || aws.ToString(m.EngineVersion) != "8.0.39" ||
		aws.ToString(m.DBInstanceClass) != "db.t4g.micro" || aws.ToString(m.DBInstanceStatus) != "available" ||
		aws.ToString(m.AvailabilityZone) != "ap-northeast-1a" || m.DBClusterIdentifier != nil ||
		aws.ToString(m.DBInstanceArn) != "arn:aws:rds:ap-northeast-1:210987654321:db:mysql-07" ||
		len(m.TagList) != 1 || aws.ToString(m.TagList[0].Value) != "7" || m.InstanceCreateTime == nil {
		t.Errorf("mysql-07: %+v", m)
	}
	w := byID["orders-1"]
	if aws.ToString(w.Endpoint.Address) != "orders-1."+host[1]+".ap-northeast-1.rds.amazonaws.com" || aws.ToInt32(w.Endpoint.Port) != 5432 ||
		aws.ToString(w.DBClusterIdentifier) != "orders" || aws.ToString(byID["orders-2"].DBInstanceStatus) != "backing-up" {
		t.Errorf("aurora members: %+v / %+v", w, byID["orders-2"])
	}

	// Filters and the identifier.
	for _, tc := range []struct {
		in   rds.DescribeDBInstancesInput
		want string
	}{
		{rds.DescribeDBInstancesInput{Filters: []rdstypes.Filter{{Name: aws.String("db-cluster-id"), Values: []string{"orders"}}}}, "orders-1,orders-2"},
		{rds.DescribeDBInstancesInput{Filters: []rdstypes.Filter{{Name: aws.String("db-cluster-id"), Values: []string{"arn:aws:rds:ap-northeast-1:210987654321:cluster:orders"}}}}, "orders-1,orders-2"},
		{rds.DescribeDBInstancesInput{Filters: []rdstypes.Filter{{Name: aws.String("engine"), Values: []string{"aurora-postgresql", "postgres"}}}}, "orders-1,orders-2"},
		{rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("mysql-03")}, "mysql-03"},
		{rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("arn:aws:rds:ap-northeast-1:210987654321:db:orders-2")}, "orders-2"},
	} {
		out, err := c.DescribeDBInstances(ctx, &tc.in)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, db := range out.DBInstances {
			ids = append(ids, aws.ToString(db.DBInstanceIdentifier))
		}
		if strings.Join(ids, ",") != tc.want || out.Marker != nil {
			t.Errorf("%+v: got %v", tc.in, ids)
		}
	}
	_, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("nope")})
	var nf *rdstypes.DBInstanceNotFoundFault
	if !errors.As(err, &nf) {
		t.Errorf("unknown instance: %v", err)
	}
	apiErr(t, err, 404, "DBInstanceNotFound")
	_, err = c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(5)})
	apiErr(t, err, 400, "InvalidParameterValue")
	_, err = c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{Filters: []rdstypes.Filter{{Name: aws.String("color"), Values: []string{"red"}}}})
	apiErr(t, err, 400, "InvalidParameterValue")

	// Tags by ARN.
	tags, err := c.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: w.DBInstanceArn})
	if err != nil || len(tags.TagList) != 1 || aws.ToString(tags.TagList[0].Key) != "role" || aws.ToString(tags.TagList[0].Value) != "writer" {
		t.Errorf("tags: %v %+v", err, tags)
	}
	_, err = c.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String("arn:aws:rds:ap-northeast-1:210987654321:db:gone")})
	apiErr(t, err, 404, "DBInstanceNotFound")

	// Permissions.
	denied := rds.NewFromConfig(resConfig(ts.URL, resOutsiderKey, resOutsiderSecre))
	_, err = denied.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	apiErr(t, err, 403, "AccessDenied")
	_, err = denied.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: w.DBInstanceArn})
	apiErr(t, err, 403, "AccessDenied")

	// Changes show up on the next call.
	if err := sim.Update(func(sc *Scenario) {
		rg := sc.Accounts[0].Regions[resRegion]
		rg.DBInstances = append(rg.DBInstances[20:], DBInstance{ID: "pg", Engine: "postgres"})
	}); err != nil {
		t.Fatal(err)
	}
	out, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, db := range out.DBInstances {
		ids = append(ids, aws.ToString(db.DBInstanceIdentifier))
	}
	if strings.Join(ids, ",") != "mysql-20,mysql-21,mysql-22,orders-1,orders-2,pg" || aws.ToInt32(out.DBInstances[5].Endpoint.Port) != 5432 {
		t.Errorf("after update: %v", ids)
	}

	wantCalls(t, sim, "rds",
		"DescribeDBInstances", "DescribeDBInstances",
		"DescribeDBInstances", "DescribeDBInstances", "DescribeDBInstances", "DescribeDBInstances", "DescribeDBInstances",
		"DescribeDBInstances:DBInstanceNotFound", "DescribeDBInstances:InvalidParameterValue", "DescribeDBInstances:InvalidParameterValue",
		"ListTagsForResource", "ListTagsForResource:DBInstanceNotFound",
		"DescribeDBInstances:AccessDenied", "ListTagsForResource:AccessDenied",
		"DescribeDBInstances")
}

func TestRDSClustersWithSDK(t *testing.T) {
	sim, ts := newResServer(t, rdsRegion(), `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"rds:DescribeDBClusters","Resource":"*"},
		{"Effect":"Allow","Action":"rds:ListTagsForResource","Resource":"arn:aws:rds:*:*:cluster:*"}]}`)
	c := rds.NewFromConfig(resConfig(ts.URL, resReaderKey, resReaderSecret))
	ctx := context.Background()

	var clusters []rdstypes.DBCluster
	p := rds.NewDescribeDBClustersPaginator(c, &rds.DescribeDBClustersInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		clusters = append(clusters, out.DBClusters...)
	}
	if len(clusters) != 2 || aws.ToString(clusters[0].DBClusterIdentifier) != "empty" {
		t.Fatalf("clusters %+v", clusters)
	}
	o := clusters[1]
	tagged := taggingARNs(sim, "rds")
	if !tagged[aws.ToString(o.DBClusterArn)] || aws.ToString(o.DBClusterArn) != "arn:aws:rds:ap-northeast-1:210987654321:cluster:orders" {
		t.Errorf("cluster ARN %s", aws.ToString(o.DBClusterArn))
	}
	if !regexp.MustCompile(`^orders\.cluster-[a-z0-9]{12}\.ap-northeast-1\.rds\.amazonaws\.com$`).MatchString(aws.ToString(o.Endpoint)) ||
		!regexp.MustCompile(`^orders\.cluster-ro-[a-z0-9]{12}\.ap-northeast-1\.rds\.amazonaws\.com$`).MatchString(aws.ToString(o.ReaderEndpoint)) ||
		aws.ToInt32(o.Port) != 5432 || aws.ToString(o.Engine) != "aurora-postgresql" || aws.ToString(o.Status) != "available" ||
		!aws.ToBool(o.MultiAZ) || len(o.TagList) != 2 || aws.ToString(o.TagList[0].Key) != "app" {
		t.Errorf("orders: %+v", o)
	}
	if len(o.DBClusterMembers) != 2 || aws.ToString(o.DBClusterMembers[0].DBInstanceIdentifier) != "orders-1" ||
		!aws.ToBool(o.DBClusterMembers[0].IsClusterWriter) || aws.ToBool(o.DBClusterMembers[1].IsClusterWriter) {
		t.Errorf("members %+v", o.DBClusterMembers)
	}
	if e := clusters[0]; aws.ToString(e.Status) != "stopped" || len(e.DBClusterMembers) != 0 || aws.ToInt32(e.Port) != 3306 {
		t.Errorf("empty: %+v", e)
	}
	// The instance endpoints and the cluster endpoints share the account's host hash.
	inst, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("orders-1")})
	if err != nil {
		t.Fatal(err)
	}
	hash := strings.Split(aws.ToString(inst.DBInstances[0].Endpoint.Address), ".")[1]
	if !strings.Contains(aws.ToString(o.Endpoint), ".cluster-"+hash+".") {
		t.Errorf("cluster endpoint %s, instance host hash %s", aws.ToString(o.Endpoint), hash)
	}

	_, err = c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("nope")})
	var nf *rdstypes.DBClusterNotFoundFault
	if !errors.As(err, &nf) {
		t.Errorf("unknown cluster: %v", err)
	}
	apiErr(t, err, 404, "DBClusterNotFoundFault")
	out, err := c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{Filters: []rdstypes.Filter{{Name: aws.String("engine"), Values: []string{"aurora-mysql"}}}})
	if err != nil || len(out.DBClusters) != 1 || aws.ToString(out.DBClusters[0].DBClusterIdentifier) != "empty" {
		t.Errorf("engine filter: %v %+v", err, out)
	}
	tags, err := c.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: o.DBClusterArn})
	if err != nil || len(tags.TagList) != 2 {
		t.Errorf("cluster tags: %v %+v", err, tags)
	}
	_, err = c.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String("arn:aws:rds:ap-northeast-1:210987654321:cluster:gone")})
	apiErr(t, err, 404, "DBClusterNotFoundFault")
	_, err = c.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String("arn:aws:rds:us-east-1:210987654321:cluster:orders")})
	apiErr(t, err, 400, "InvalidParameterValue")

	// A policy scoped to cluster ARNs: cluster tags yes, instance tags no.
	scoped := rds.NewFromConfig(resConfig(ts.URL, resScopedKey, resScopedSecret))
	if _, err := scoped.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: o.DBClusterArn}); err != nil {
		t.Errorf("scoped cluster tags: %v", err)
	}
	_, err = scoped.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: inst.DBInstances[0].DBInstanceArn})
	apiErr(t, err, 403, "AccessDenied")
	_, err = scoped.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	apiErr(t, err, 403, "AccessDenied")

	// A new member joins as a reader.
	if err := sim.Update(func(sc *Scenario) {
		rg := sc.Accounts[0].Regions[resRegion]
		rg.DBInstances = append(rg.DBInstances, DBInstance{ID: "orders-3", Engine: "aurora-postgresql", Cluster: "orders"})
	}); err != nil {
		t.Fatal(err)
	}
	out, err = c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("orders")})
	if err != nil || len(out.DBClusters) != 1 || len(out.DBClusters[0].DBClusterMembers) != 3 ||
		aws.ToString(out.DBClusters[0].DBClusterMembers[2].DBInstanceIdentifier) != "orders-3" {
		t.Fatalf("after update: %v %+v", err, out)
	}

	wantCalls(t, sim, "rds",
		"DescribeDBClusters", "DescribeDBInstances", "DescribeDBClusters:DBClusterNotFoundFault", "DescribeDBClusters",
		"ListTagsForResource", "ListTagsForResource:DBClusterNotFoundFault", "ListTagsForResource:InvalidParameterValue",
		"ListTagsForResource", "ListTagsForResource:AccessDenied", "DescribeDBInstances:AccessDenied",
		"DescribeDBClusters")
}
