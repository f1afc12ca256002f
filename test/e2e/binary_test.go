package e2e

import (
	"os/exec"
	"regexp"
	"testing"
)

// sdkOperationRE matches an AWS SDK client's exported method in the
// binary's symbol table: its service package and the method.
var sdkOperationRE = regexp.MustCompile(`(?m)aws-sdk-go-v2/service/([a-z0-9]+)\.\(\*Client\)\.([A-Z]\w*)$`)

// TestBinaryKeepsOnlyTheSDKOperationsItCalls: the linker keeps an SDK
// client's operations only when Kansoku calls them. A *Client that becomes
// an interface value (handed to a paginator, held in a struct that becomes
// one) makes it keep all of them, since text/template looks methods up by
// name: EC2's alone added 37 MB to the binary, all of them 122 MB (see
// internal/awsint/catalog/pagers.go).
func TestBinaryKeepsOnlyTheSDKOperationsItCalls(t *testing.T) {
	out, err := exec.Command("go", "tool", "nm", kansokuBin).Output()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	// The SDK itself holds these clients as interfaces: S3's Express
	// credentials its client, the credential providers STS, SSO and
	// sign-in's.
	sdkHeld := map[string]bool{"s3": true, "sts": true, "sso": true, "ssooidc": true, "signin": true}
	const most = 5 // a service Kansoku calls the most operations of (EC2: 3)
	methods := map[string][]string{}
	for _, m := range sdkOperationRE.FindAllStringSubmatch(string(out), -1) {
		methods[m[1]] = append(methods[m[1]], m[2])
	}
	if len(methods) < 20 {
		t.Fatalf("the symbol table names the clients of %d SDK services, want the 30-odd the AWS integration uses", len(methods))
	}
	for svc, ms := range methods {
		if !sdkHeld[svc] && len(ms) > most {
			t.Errorf("the binary keeps %d operations of the %s client (over %d): a *%s.Client became an interface value", len(ms), svc, most, svc)
		}
	}
}
