package awssim

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// lambdaRegion has 55 functions: more than one unlimited page (50).
func lambdaRegion() *Region {
	rg := &Region{LambdaFunctions: []LambdaFunction{
		{Name: "pub-api", Runtime: "python3.12", MemorySize: 512, Timeout: 30, Tags: Tags{"env": "prod", "team": "api"}},
		{Name: "image-fn"},
	}}
	for i := range 53 {
		rg.LambdaFunctions = append(rg.LambdaFunctions, LambdaFunction{Name: fmt.Sprintf("worker-%02d", i), Runtime: "nodejs20.x"})
	}
	return rg
}

func TestLambdaWithSDK(t *testing.T) {
	sim, ts := newResServer(t, lambdaRegion(), `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["lambda:ListTags","lambda:GetFunctionConfiguration"],"Resource":"arn:aws:lambda:*:*:function:pub-*"}]}`)
	c := lambda.NewFromConfig(resConfig(ts.URL, resReaderKey, resReaderSecret))
	ctx := context.Background()

	// Without a limit: pages of 50.
	var pageSizes []int
	var fns []lambdatypes.FunctionConfiguration
	p := lambda.NewListFunctionsPaginator(c, &lambda.ListFunctionsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pageSizes = append(pageSizes, len(out.Functions))
		fns = append(fns, out.Functions...)
	}
	if fmt.Sprint(pageSizes) != "[50 5]" {
		t.Fatalf("page sizes %v", pageSizes)
	}
	tagged := taggingARNs(sim, "lambda")
	byName := map[string]lambdatypes.FunctionConfiguration{}
	for _, f := range fns {
		byName[aws.ToString(f.FunctionName)] = f
		if !tagged[aws.ToString(f.FunctionArn)] {
			t.Errorf("ARN %s is not the tagging API's", aws.ToString(f.FunctionArn))
		}
	}
	if len(byName) != 55 {
		t.Errorf("%d distinct functions", len(byName))
	}
	api := byName["pub-api"]
	if aws.ToString(api.FunctionArn) != "arn:aws:lambda:ap-northeast-1:210987654321:function:pub-api" ||
		api.Runtime != lambdatypes.RuntimePython312 || aws.ToInt32(api.MemorySize) != 512 || aws.ToInt32(api.Timeout) != 30 ||
		aws.ToString(api.Handler) != "lambda_function.lambda_handler" || api.State != lambdatypes.StateActive ||
		aws.ToString(api.Role) == "" || aws.ToString(api.Version) != "$LATEST" || api.PackageType != lambdatypes.PackageTypeZip {
		t.Errorf("pub-api: %+v", api)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000-0700", aws.ToString(api.LastModified)); err != nil {
		t.Errorf("LastModified: %v", err)
	}
	if img := byName["image-fn"]; img.PackageType != lambdatypes.PackageTypeImage || img.Runtime != "" ||
		aws.ToInt32(img.MemorySize) != 128 || aws.ToInt32(img.Timeout) != 3 {
		t.Errorf("image-fn: %+v", img)
	}

	// With a limit.
	pageSizes = nil
	p = lambda.NewListFunctionsPaginator(c, &lambda.ListFunctionsInput{}, func(o *lambda.ListFunctionsPaginatorOptions) { o.Limit = 20 })
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pageSizes = append(pageSizes, len(out.Functions))
	}
	if fmt.Sprint(pageSizes) != "[20 20 15]" {
		t.Errorf("page sizes with limit 20: %v", pageSizes)
	}
	_, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{Marker: aws.String("bogus")})
	apiErr(t, err, 400, "InvalidParameterValueException")

	// GetFunctionConfiguration by name, ARN and partial ARN.
	for _, ref := range []string{"pub-api", "arn:aws:lambda:ap-northeast-1:210987654321:function:pub-api", "210987654321:function:pub-api", "pub-api:$LATEST"} {
		out, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(ref)})
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if aws.ToString(out.FunctionArn) != aws.ToString(api.FunctionArn) || aws.ToString(out.CodeSha256) != aws.ToString(api.CodeSha256) ||
			aws.ToString(out.RevisionId) != aws.ToString(api.RevisionId) {
			t.Errorf("%s: %+v", ref, out)
		}
	}
	_, err = c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("missing")})
	var nf *lambdatypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("missing function: %v", err)
	}
	apiErr(t, err, 404, "ResourceNotFoundException")
	_, err = c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("pub-api"), Qualifier: aws.String("prod")})
	apiErr(t, err, 404, "ResourceNotFoundException")

	// Tags.
	tags, err := c.ListTags(ctx, &lambda.ListTagsInput{Resource: api.FunctionArn})
	if err != nil || len(tags.Tags) != 2 || tags.Tags["team"] != "api" {
		t.Errorf("tags: %v %+v", err, tags)
	}
	tags, err = c.ListTags(ctx, &lambda.ListTagsInput{Resource: byName["worker-00"].FunctionArn})
	if err != nil || len(tags.Tags) != 0 {
		t.Errorf("no tags: %v %+v", err, tags)
	}
	_, err = c.ListTags(ctx, &lambda.ListTagsInput{Resource: aws.String("arn:aws:lambda:ap-northeast-1:210987654321:function:gone")})
	apiErr(t, err, 404, "ResourceNotFoundException")

	// Permissions: none, and a policy scoped to pub-* functions.
	denied := lambda.NewFromConfig(resConfig(ts.URL, resOutsiderKey, resOutsiderSecre))
	_, err = denied.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	apiErr(t, err, 403, "AccessDeniedException")
	scoped := lambda.NewFromConfig(resConfig(ts.URL, resScopedKey, resScopedSecret))
	if _, err := scoped.ListTags(ctx, &lambda.ListTagsInput{Resource: api.FunctionArn}); err != nil {
		t.Errorf("scoped ListTags of pub-api: %v", err)
	}
	_, err = scoped.ListTags(ctx, &lambda.ListTagsInput{Resource: byName["worker-00"].FunctionArn})
	apiErr(t, err, 403, "AccessDeniedException")
	_, err = scoped.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("worker-01")})
	apiErr(t, err, 403, "AccessDeniedException")

	// Changes show up on the next call.
	if err := sim.Update(func(sc *Scenario) {
		rg := sc.Accounts[0].Regions[resRegion]
		rg.LambdaFunctions = []LambdaFunction{rg.LambdaFunctions[0], {Name: "added", Runtime: "go1.x", Tags: Tags{"k": "v"}}}
	}); err != nil {
		t.Fatal(err)
	}
	out, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil || len(out.Functions) != 2 || aws.ToString(out.Functions[0].FunctionName) != "added" ||
		aws.ToString(out.Functions[0].Handler) != "bootstrap" || out.NextMarker != nil {
		t.Fatalf("after update: %v %+v", err, out)
	}
	_, err = c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("worker-00")})
	apiErr(t, err, 404, "ResourceNotFoundException")

	wantCalls(t, sim, "lambda",
		"ListFunctions", "ListFunctions",
		"ListFunctions", "ListFunctions", "ListFunctions", "ListFunctions:InvalidParameterValueException",
		"GetFunctionConfiguration", "GetFunctionConfiguration", "GetFunctionConfiguration", "GetFunctionConfiguration",
		"GetFunctionConfiguration:ResourceNotFoundException", "GetFunctionConfiguration:ResourceNotFoundException",
		"ListTags", "ListTags", "ListTags:ResourceNotFoundException",
		"ListFunctions:AccessDeniedException", "ListTags", "ListTags:AccessDeniedException",
		"GetFunctionConfiguration:AccessDeniedException",
		"ListFunctions", "GetFunctionConfiguration:ResourceNotFoundException")
}

// TestLambdaAuthErrors checks that authentication failures use Lambda's
// codes.
func TestLambdaAuthErrors(t *testing.T) {
	_, ts := newResServer(t, lambdaRegion(), "")
	c := lambda.NewFromConfig(resConfig(ts.URL, "AKIAUNKNOWNKEY000001", "whatever"))
	_, err := c.ListFunctions(context.Background(), &lambda.ListFunctionsInput{})
	apiErr(t, err, 403, "UnrecognizedClientException")
	c = lambda.NewFromConfig(resConfig(ts.URL, resReaderKey, "wrong-secret"))
	_, err = c.ListFunctions(context.Background(), &lambda.ListFunctionsInput{})
	apiErr(t, err, 403, "InvalidSignatureException")
}
