package awssim

import (
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Amazon EKS (signing name eks, REST-JSON), from the Amazon EKS API
// Reference: DescribeCluster (GET /clusters/{name}) answers the clusters
// of the scenario (Region.EKSClusters) with the fields a client needs to
// reach the cluster's API server: endpoint, certificateAuthority.data,
// arn, status and resourcesVpcConfig.
//
// A cluster's API server authenticates IAM principals with the AWS IAM
// Authenticator for Kubernetes: EKSAuthenticator is that authenticator's
// token-review webhook for one cluster, which the cluster's API server
// (a real kube-apiserver in the tests) calls with
// --authentication-token-webhook-config-file. As the authenticator
// documents it, a token is "k8s-aws-v1." followed by the unpadded base64url
// of a presigned STS GetCallerIdentity URL whose signed headers include
// x-k8s-aws-id, the cluster's name. The webhook checks the URL's form,
// sends it to STS with that header (this simulator's own STS and SigV4
// verifier, so a token for another cluster fails the signature), and maps
// the caller's ARN, with an assumed role's session reduced to its role's
// ARN, to a Kubernetes user through the cluster's access entries (EKS
// access entries, or the aws-auth ConfigMap's mapRoles, which map the same
// way).

const (
	eksSigningName = "eks"
	// eksTokenPrefix starts every IAM authenticator token.
	eksTokenPrefix = "k8s-aws-v1."
	// eksTokenMaxBytes is the authenticator's bound on a token.
	eksTokenMaxBytes = 4 << 10
	// eksTokenLifetime: a token is valid 15 minutes after its X-Amz-Date.
	eksTokenLifetime = 15 * time.Minute
	// eksClusterIDHeader is the signed header naming the cluster.
	eksClusterIDHeader = "x-k8s-aws-id"
)

// EKSCluster is an Amazon EKS cluster of the scenario.
type EKSCluster struct {
	Name string `yaml:"name"`
	// Endpoint is the cluster's API server URL (https://...).
	Endpoint string `yaml:"endpoint"`
	// CertificateAuthority is the PEM of the CA the API server's serving
	// certificate chains to (DescribeCluster returns it base64-encoded).
	CertificateAuthority string   `yaml:"certificate_authority"`
	Version              string   `yaml:"version"` // default 1.33
	Status               string   `yaml:"status"`  // default ACTIVE
	SubnetIDs            []string `yaml:"subnet_ids"`
	SecurityGroupIDs     []string `yaml:"security_group_ids"`
	VPCID                string   `yaml:"vpc_id"`
	Tags                 Tags     `yaml:"tags"`
	// AccessEntries map IAM principals to Kubernetes users and groups.
	AccessEntries []EKSAccessEntry `yaml:"access_entries"`
}

// EKSAccessEntry maps an IAM principal (a role or user ARN, an assumed
// role's session counting as its role) to a Kubernetes user name and
// groups. Username may use the authenticator's {{SessionName}} and
// {{AccountID}} placeholders.
type EKSAccessEntry struct {
	PrincipalARN string   `yaml:"principal_arn"`
	Username     string   `yaml:"username"`
	Groups       []string `yaml:"groups"`
}

var eksClusterNameRE = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$`)

func newEKSService(s *Server) *restJSON {
	return &restJSON{s: s, routes: []restRoute{
		{method: "GET", pattern: "/clusters/{name}", action: "DescribeCluster", h: func(req *request, p map[string]string, _ url.Values) (any, *apiError) {
			name := p["name"]
			if !eksClusterNameRE.MatchString(name) {
				return nil, errorf(http.StatusBadRequest, "InvalidParameterException", "The cluster name %q is invalid: it must match [0-9A-Za-z][A-Za-z0-9\\-_]* and have at most 100 characters.", name)
			}
			arn := partitionARN("eks", req.region, req.principal.AccountID, "cluster/"+name)
			if e := s.authorize(req, "eks:DescribeCluster", arn); e != nil {
				return nil, e
			}
			var out any
			s.read(func(sc *Scenario) {
				for _, c := range req.regionData(sc).EKSClusters {
					if c.Name == name {
						out = map[string]any{"cluster": eksClusterJSON(&c, arn)}
					}
				}
			})
			if out == nil {
				return nil, errorf(http.StatusNotFound, "ResourceNotFoundException", "No cluster found for name: %s.", name)
			}
			return out, nil
		}},
	}}
}

func eksClusterJSON(c *EKSCluster, arn string) map[string]any {
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	tags := map[string]string{}
	for k, v := range c.Tags {
		tags[k] = v
	}
	nonNil := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	return map[string]any{
		"name": c.Name, "arn": arn, "version": or(c.Version, "1.33"), "endpoint": c.Endpoint,
		"createdAt": epochSeconds(digestTime("eks", arn)),
		"roleArn":   strings.Replace(strings.Replace(arn, ":eks:", ":iam:", 1), ":cluster/", ":role/eks-cluster-role-", 1),
		"resourcesVpcConfig": map[string]any{"subnetIds": nonNil(c.SubnetIDs), "securityGroupIds": nonNil(c.SecurityGroupIDs),
			"vpcId": or(c.VPCID, "vpc-0eks"), "endpointPublicAccess": true, "endpointPrivateAccess": true, "publicAccessCidrs": []string{"0.0.0.0/0"}},
		"certificateAuthority": map[string]string{"data": base64.StdEncoding.EncodeToString([]byte(c.CertificateAuthority))},
		"status":               or(c.Status, "ACTIVE"),
		"platformVersion":      "eks.1",
		"accessConfig":         map[string]string{"authenticationMode": "API_AND_CONFIG_MAP"},
		"tags":                 tags,
	}
}

// tokenReview is the part of a Kubernetes TokenReview (authentication.k8s.io
// v1 or v1beta1) the webhook reads and writes.
type tokenReview struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Spec       tokenReviewSpec   `json:"spec"`
	Status     tokenReviewStatus `json:"status"`
}

type tokenReviewSpec struct {
	Token string `json:"token,omitempty"`
}

type tokenReviewStatus struct {
	Authenticated bool            `json:"authenticated"`
	User          *tokenReviewUse `json:"user,omitempty"`
	Error         string          `json:"error,omitempty"`
}

type tokenReviewUse struct {
	Username string              `json:"username"`
	UID      string              `json:"uid"`
	Groups   []string            `json:"groups,omitempty"`
	Extra    map[string][]string `json:"extra,omitempty"`
}

// EKSAuthenticator returns the token-review webhook of the IAM
// authenticator of cluster name in account's region. stsURL is where this
// simulator is served (scheme and host): the only STS endpoint a token's
// URL may name, as the authenticator accepts only STS's own hosts.
func (s *Server) EKSAuthenticator(account, region, name, stsURL string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rev tokenReview
		if r.Method != http.MethodPost {
			http.Error(w, "POST a TokenReview", http.StatusMethodNotAllowed)
			return
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&rev); err != nil {
			http.Error(w, "the body is not a TokenReview: "+err.Error(), http.StatusBadRequest)
			return
		}
		user, err := s.reviewEKSToken(account, region, name, stsURL, rev.Spec.Token)
		rev.Spec = tokenReviewSpec{}
		status := http.StatusOK
		if err != nil {
			rev.Status = tokenReviewStatus{Error: err.Error()}
			status = http.StatusForbidden // as the authenticator answers a refused token
		} else {
			rev.Status = tokenReviewStatus{Authenticated: true, User: user}
		}
		if rev.APIVersion == "" {
			rev.APIVersion = "authentication.k8s.io/v1"
		}
		rev.Kind = "TokenReview"
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(rev)
	})
}

var eksAllowedParams = map[string]bool{"action": true, "version": true, "x-amz-algorithm": true, "x-amz-credential": true, "x-amz-date": true,
	"x-amz-expires": true, "x-amz-security-token": true, "x-amz-signature": true, "x-amz-signedheaders": true}

// reviewEKSToken verifies an IAM authenticator token for a cluster and
// returns the Kubernetes user it maps to.
func (s *Server) reviewEKSToken(account, region, cluster, stsURL, token string) (*tokenReviewUse, error) {
	if len(token) > eksTokenMaxBytes {
		return nil, fmt.Errorf("token is too large")
	}
	enc, ok := strings.CutPrefix(token, eksTokenPrefix)
	if !ok {
		return nil, fmt.Errorf("token is missing expected %q prefix", eksTokenPrefix)
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("token is not base64url: %w", err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		return nil, fmt.Errorf("token's URL is malformed: %w", err)
	}
	want, err := url.Parse(stsURL)
	if err != nil || u.Scheme != want.Scheme || u.Host != want.Host {
		return nil, fmt.Errorf("unexpected STS endpoint %s://%s in the token", u.Scheme, u.Host)
	}
	if u.Path != "/" {
		return nil, fmt.Errorf("unexpected path %q in the token's URL", u.Path)
	}
	q := u.Query()
	lower := url.Values{}
	for k, v := range q {
		if !eksAllowedParams[strings.ToLower(k)] {
			return nil, fmt.Errorf("non-allowlisted query parameter %q", k)
		}
		lower[strings.ToLower(k)] = v
	}
	if lower.Get("action") != "GetCallerIdentity" {
		return nil, fmt.Errorf("unexpected action parameter in pre-signed URL")
	}
	if !slices.Contains(strings.Split(lower.Get("x-amz-signedheaders"), ";"), eksClusterIDHeader) {
		return nil, fmt.Errorf("client did not sign the %s header in the pre-signed URL", eksClusterIDHeader)
	}
	date, err := time.Parse(sigV4TimeFormat, lower.Get("x-amz-date"))
	if err != nil {
		return nil, fmt.Errorf("X-Amz-Date parameter is malformed")
	}
	if s.authNow().After(date.Add(eksTokenLifetime)) {
		return nil, fmt.Errorf("X-Amz-Date parameter is expired (15 minute expiration) %s", date.Format(time.RFC3339))
	}
	// STS, asked with the cluster's name in the signed header.
	req := httptest.NewRequest(http.MethodGet, u.String(), nil)
	req.Header.Set(eksClusterIDHeader, cluster)
	req.Header.Set("Accept", "application/json")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		var e struct {
			Error struct{ Code, Message string } `xml:"Error"`
		}
		_ = xml.Unmarshal(rec.Body.Bytes(), &e)
		return nil, fmt.Errorf("sts getCallerIdentity failed: %d %s: %s", rec.Code, e.Error.Code, e.Error.Message)
	}
	var id struct {
		Result stsGetCallerIdentityResult `xml:"GetCallerIdentityResult"`
	}
	if err := xml.Unmarshal(rec.Body.Bytes(), &id); err != nil {
		return nil, fmt.Errorf("sts getCallerIdentity answer: %w", err)
	}
	canonical, session := id.Result.Arn, ""
	if m := stsSessionARNRE.FindStringSubmatch(id.Result.Arn); m != nil {
		canonical, session = "arn:aws:iam::"+m[1]+":role/"+m[2], m[3]
	}
	var entry *EKSAccessEntry
	s.read(func(sc *Scenario) {
		a := sc.account(account)
		if a == nil || a.Regions[region] == nil {
			return
		}
		for _, c := range a.Regions[region].EKSClusters {
			if c.Name != cluster {
				continue
			}
			for _, e := range c.AccessEntries {
				if e.PrincipalARN == canonical || stsRoleARNRE.MatchString(e.PrincipalARN) && roleName(e.PrincipalARN) == roleName(canonical) && accountOf(e.PrincipalARN) == accountOf(canonical) {
					e := e
					entry = &e
					return
				}
			}
		}
	})
	if entry == nil {
		return nil, fmt.Errorf("ARN is not mapped: %s", canonical)
	}
	name := strings.NewReplacer("{{SessionName}}", session, "{{AccountID}}", id.Result.Account).Replace(entry.Username)
	return &tokenReviewUse{Username: name, UID: "aws-iam-authenticator:" + id.Result.Account + ":" + id.Result.UserID, Groups: entry.Groups,
		Extra: map[string][]string{"arn": {id.Result.Arn}, "canonicalArn": {canonical}, "sessionName": {session},
			"accessKeyId": {accessKeyOf(lower.Get("x-amz-credential"))}}}, nil
}

// roleName is the last path element of a role ARN (roles with a path map
// by name, as the authenticator's canonical ARN drops the path).
func roleName(arn string) string {
	if m := stsRoleARNRE.FindStringSubmatch(arn); m != nil {
		return m[2]
	}
	return ""
}

func accountOf(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) < 5 {
		return ""
	}
	return parts[4]
}

func accessKeyOf(credential string) string {
	k, _, _ := strings.Cut(credential, "/")
	return k
}
