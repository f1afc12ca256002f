package httpapi

import (
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/auth"
)

// Status is AMP's status member: a code, and the reason of a failure.
type Status struct {
	StatusCode   string `json:"statusCode"`
	StatusReason string `json:"statusReason,omitempty"`
}

// BlobInput is the request of AMP's calls that upload a file (rule-groups
// namespaces, Alertmanager definitions): base64 in the data member.
type BlobInput struct {
	Data        *string           `json:"data"`
	Name        string            `json:"name"`
	ClientToken string            `json:"clientToken"`
	Tags        map[string]string `json:"tags"`
}

// Blob decodes the data member strictly; a missing one is a validation
// error.
func (in BlobInput) Blob() ([]byte, error) {
	if in.Data == nil {
		return nil, apierr.InvalidField("data", "Member must not be null")
	}
	b, err := base64.StdEncoding.Strict().DecodeString(*in.Data)
	if err != nil {
		return nil, apierr.Validation(apierr.ReasonCannotParse, "data must be base64: %v (with the AWS CLI v2, pass the file as fileb://)", err)
	}
	return b, nil
}

// DoubleEncodedHint explains a failure the AWS CLI v1 causes when given a
// base64 string literal (it encodes it once more).
func DoubleEncodedHint(status Status, data []byte) Status {
	if status.StatusReason == "" || !utf8.Valid(data) {
		return status
	}
	s := strings.TrimSpace(string(data))
	if _, err := base64.StdEncoding.DecodeString(s); err == nil && len(s) >= 8 && !strings.ContainsAny(s, " :\n") {
		status.StatusReason += " (the data looks base64-encoded twice: pass the plain YAML file, e.g. --data fileb://rules.yaml)"
	}
	return status
}

// TimeParam reads a time query parameter: RFC 3339, epoch seconds, or a
// duration ago ("1h"); the zero time when absent.
func TimeParam(q url.Values, name string) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return time.UnixMilli(int64(f * 1000)), nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return time.Now().Add(-d), nil
	}
	return time.Time{}, apierr.InvalidField(name, "give an RFC 3339 time, epoch seconds, or a duration ago like 1h")
}

// SourceIP is the address a request came from (the TCP peer: Kansoku does
// not trust forwarding headers).
func SourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// BodyTags are the tags of an AMP request body ({"tags": {...}}: create
// calls, TagResource), for aws:RequestTag/* and aws:TagKeys.
func BodyTags(r *http.Request) (*auth.RequestTags, error) {
	var in struct {
		Tags map[string]string `json:"tags"`
	}
	if err := DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(in.Tags))
	for k := range in.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return &auth.RequestTags{Tags: in.Tags, Keys: keys}, nil
}

// QueryTagKeys are UntagResource's tagKeys, for aws:TagKeys.
func QueryTagKeys(r *http.Request) (*auth.RequestTags, error) {
	keys := r.URL.Query()["tagKeys"]
	if len(keys) == 0 {
		return nil, nil
	}
	return &auth.RequestTags{Keys: keys}, nil
}
