package awssim

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The simulator's own check of AWS Signature Version 4, written from AWS's
// documentation of the signing process (IAM User Guide, "AWS Signature
// Version 4 for API requests": "Elements of an AWS API request signature"
// and "Create a signed AWS API request"), and deliberately sharing no code
// with Kansoku's verifier (internal/auth): the simulator stands in for AWS,
// so Kansoku's clients must be judged by a reading of the protocol that is
// not Kansoku's own.
//
// What is checked, as AWS documents it for services other than Amazon S3:
//
//   - the Authorization header: "AWS4-HMAC-SHA256 Credential=<key id>/
//     <YYYYMMDD>/<region>/<service>/aws4_request, SignedHeaders=<names>,
//     Signature=<hex>"; host among the signed headers;
//   - the request time: X-Amz-Date (ISO 8601 basic, UTC), else the Date
//     header; within 15 minutes of the simulator's clock; its date is the
//     credential scope's;
//   - the scope's region and service against the ones expected;
//   - the signature: HMAC-SHA256 of the string to sign ("AWS4-HMAC-SHA256",
//     the request time, the scope, the hex SHA-256 of the canonical
//     request) with the key derived from the secret (kDate = HMAC("AWS4" +
//     secret, date), then region, service and "aws4_request"). The
//     canonical request is the method, the URI-encoded path (each segment
//     encoded twice: the path as sent, encoded once more), the query
//     parameters sorted and URI-encoded, the signed headers (lowercase
//     names, trimmed values with inner runs of spaces folded, repeated
//     values joined by commas), the signed header names, and the hex
//     SHA-256 of the body as received (so a body changed after signing,
//     or an x-amz-content-sha256 that is not the body's, fails);
//   - temporary credentials (AssumeRole): their X-Amz-Security-Token must be
//     the session's token, and the session must not have expired.
//
// Query-string (presigned URL) authentication ("Authentication Methods":
// query parameters) is verified as well: X-Amz-Algorithm, X-Amz-Credential,
// X-Amz-Date, X-Amz-SignedHeaders and X-Amz-Signature (with
// X-Amz-Security-Token for temporary credentials, and X-Amz-Expires when
// given) in the query; the
// canonical query is every parameter but X-Amz-Signature. The request time
// is held against the same 15-minute window as a signed header's, whatever
// X-Amz-Expires says: that is how STS treats a presigned GetCallerIdentity
// (the AWS IAM Authenticator for Kubernetes documents that STS ignores
// X-Amz-Expires there, and its tokens live 15 minutes from X-Amz-Date).
//
// Not simulated: S3's single path encoding and unsigned or chunked
// payloads, SigV4a, and normalizing "." and ".." path segments (the SDKs
// send none).

const (
	sigV4Algorithm  = "AWS4-HMAC-SHA256"
	sigV4TimeFormat = "20060102T150405Z"
	// sigV4MaxSkew is how far a request's time may be from the clock.
	sigV4MaxSkew = 15 * time.Minute
)

// credential is what the simulator holds for an access key to verify a
// signature made with it.
type credential struct {
	secret string
	// sessionToken is set for temporary credentials (AssumeRole): requests
	// must carry it in X-Amz-Security-Token, until expires.
	sessionToken string
	expires      time.Time
}

// sigV4Verifier checks a request's Signature Version 4.
type sigV4Verifier struct {
	// region and service are what the credential scope must name.
	region, service string
	// now is the clock request times are held against.
	now func() time.Time
	// lookup returns the credential of an access key id.
	lookup func(accessKeyID string) (credential, bool)
}

// sigV4Header is the parsed Authorization header of a request.
type sigV4Header struct {
	accessKeyID   string
	scopeDate     string
	scopeRegion   string
	scopeService  string
	signedHeaders []string
	signature     string
}

// scope returns the credential scope, <date>/<region>/<service>/aws4_request.
func (h *sigV4Header) scope() string {
	return h.scopeDate + "/" + h.scopeRegion + "/" + h.scopeService + "/aws4_request"
}

func invalidClientTokenID() *apiError {
	return errorf(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
}

func expiredToken() *apiError {
	return errorf(http.StatusForbidden, "ExpiredToken", "The security token included in the request is expired")
}

func incompleteSignature(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "IncompleteSignature", format, args...)
}

func signatureDoesNotMatch(format string, args ...any) *apiError {
	return errorf(http.StatusForbidden, "SignatureDoesNotMatch", format, args...)
}

// verify checks r's signature over body, the request's body as received,
// and returns the access key id that signed it. Errors carry the codes of
// AWS's Query-protocol services; services whose wire codes differ rename
// them.
func (v *sigV4Verifier) verify(r *http.Request, body []byte) (string, *apiError) {
	presigned := r.Header.Get("Authorization") == "" && r.URL.Query().Get("X-Amz-Algorithm") != ""
	var (
		h                *sigV4Header
		reqTime          time.Time
		rawTime, token   string
		err              *apiError
		canonicalRequest func() string
	)
	if presigned {
		var unsigned *http.Request
		h, reqTime, rawTime, token, unsigned, err = parsePresigned(r)
		if err != nil {
			return "", err
		}
		canonicalRequest = func() string { return sigV4CanonicalRequest(unsigned, h, body) }
	} else {
		if h, err = parseSigV4Header(r); err != nil {
			return "", err
		}
		if reqTime, rawTime, err = sigV4RequestTime(r, h); err != nil {
			return "", err
		}
		token = r.Header.Get("X-Amz-Security-Token")
		canonicalRequest = func() string { return sigV4CanonicalRequest(r, h, body) }
	}
	if rawTime[:8] != h.scopeDate {
		return "", signatureDoesNotMatch("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			h.scopeDate, rawTime[:8], rawTime)
	}
	if h.scopeService != v.service {
		return "", signatureDoesNotMatch("Credential should be scoped to correct service: '%s'.", v.service)
	}
	if h.scopeRegion != v.region {
		return "", signatureDoesNotMatch("Credential should be scoped to a valid region.")
	}
	now := v.now().UTC()
	if reqTime.Before(now.Add(-sigV4MaxSkew)) {
		return "", signatureDoesNotMatch("Signature expired: %s is now earlier than %s (%s - 15 min.)",
			rawTime, now.Add(-sigV4MaxSkew).Format(sigV4TimeFormat), now.Format(sigV4TimeFormat))
	}
	if reqTime.After(now.Add(sigV4MaxSkew)) {
		return "", signatureDoesNotMatch("Signature not yet current: %s is still later than %s (%s + 15 min.)",
			rawTime, now.Add(sigV4MaxSkew).Format(sigV4TimeFormat), now.Format(sigV4TimeFormat))
	}
	cred, ok := v.lookup(h.accessKeyID)
	if !ok {
		return "", invalidClientTokenID()
	}
	want := sigV4Signature(cred.secret, h, rawTime, canonicalRequest())
	if !hmac.Equal([]byte(want), []byte(h.signature)) {
		return "", signatureDoesNotMatch("The request signature we calculated does not match the signature you provided. " +
			"Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	if cred.sessionToken != "" {
		if !now.Before(cred.expires) {
			return "", expiredToken()
		}
		if subtle.ConstantTimeCompare([]byte(token), []byte(cred.sessionToken)) != 1 {
			return "", invalidClientTokenID()
		}
	}
	return h.accessKeyID, nil
}

// parsePresigned parses the query-string authentication of a presigned
// URL: the signature's elements, the request time, the session token, and
// the request as it was signed (the query without X-Amz-Signature).
func parsePresigned(r *http.Request) (*sigV4Header, time.Time, string, string, *http.Request, *apiError) {
	q, perr := url.ParseQuery(r.URL.RawQuery)
	if perr != nil {
		return nil, time.Time{}, "", "", nil, incompleteSignature("the query string is malformed")
	}
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"} {
		if len(q[k]) != 1 || q.Get(k) == "" {
			return nil, time.Time{}, "", "", nil, incompleteSignature("Query-string authentication requires exactly one '%s' parameter.", k)
		}
	}
	if q.Get("X-Amz-Algorithm") != sigV4Algorithm {
		return nil, time.Time{}, "", "", nil, incompleteSignature("X-Amz-Algorithm must be %s", sigV4Algorithm)
	}
	scope := strings.Split(q.Get("X-Amz-Credential"), "/")
	if len(scope) != 5 || scope[0] == "" || len(scope[1]) != 8 || scope[2] == "" || scope[3] == "" || scope[4] != "aws4_request" {
		return nil, time.Time{}, "", "", nil, incompleteSignature("X-Amz-Credential must have the form <AccessKeyId>/<YYYYMMDD>/<region>/<service>/aws4_request")
	}
	if n, err := strconv.Atoi(q.Get("X-Amz-Expires")); q.Has("X-Amz-Expires") && (err != nil || n < 1 || n > 604800) {
		return nil, time.Time{}, "", "", nil, incompleteSignature("X-Amz-Expires must be a number of seconds from 1 to 604800")
	}
	h := &sigV4Header{accessKeyID: scope[0], scopeDate: scope[1], scopeRegion: scope[2], scopeService: scope[3],
		signedHeaders: strings.Split(q.Get("X-Amz-SignedHeaders"), ";"), signature: q.Get("X-Amz-Signature")}
	if !sort.StringsAreSorted(h.signedHeaders) || !slices.Contains(h.signedHeaders, "host") {
		return nil, time.Time{}, "", "", nil, incompleteSignature("X-Amz-SignedHeaders must be sorted and include 'host'")
	}
	raw := q.Get("X-Amz-Date")
	t, terr := time.Parse(sigV4TimeFormat, raw)
	if terr != nil {
		return nil, time.Time{}, "", "", nil, incompleteSignature("X-Amz-Date must be in the ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z', not '%s'", raw)
	}
	// The canonical query is the query as sent less the signature.
	var kept []string
	for _, part := range strings.Split(r.URL.RawQuery, "&") {
		if !strings.HasPrefix(part, "X-Amz-Signature=") {
			kept = append(kept, part)
		}
	}
	unsigned := r.Clone(r.Context())
	u := *r.URL
	u.RawQuery = strings.Join(kept, "&")
	unsigned.URL = &u
	return h, t, raw, q.Get("X-Amz-Security-Token"), unsigned, nil
}

// parseSigV4Header parses r's Authorization header.
func parseSigV4Header(r *http.Request) (*sigV4Header, *apiError) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		if q := r.URL.Query(); q.Get("X-Amz-Algorithm") != "" || q.Get("X-Amz-Signature") != "" {
			return nil, incompleteSignature("awssim verifies signatures in the Authorization header only, not in the query string")
		}
		return nil, errorf(http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
	}
	rest, ok := strings.CutPrefix(auth, sigV4Algorithm+" ")
	if !ok {
		return nil, incompleteSignature("Authorization header must start with %s", sigV4Algorithm)
	}
	elems := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || val == "" {
			return nil, incompleteSignature("Authorization header requires a key=value element, not '%s'", strings.TrimSpace(part))
		}
		if _, dup := elems[k]; dup {
			return nil, incompleteSignature("Authorization header has the element '%s' twice", k)
		}
		elems[k] = val
	}
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if elems[k] == "" {
			return nil, incompleteSignature("Authorization header requires '%s' parameter.", k)
		}
	}
	scope := strings.Split(elems["Credential"], "/")
	if len(scope) != 5 || scope[0] == "" || len(scope[1]) != 8 || scope[2] == "" || scope[3] == "" || scope[4] != "aws4_request" {
		return nil, incompleteSignature("Credential must have the form <AccessKeyId>/<YYYYMMDD>/<region>/<service>/aws4_request")
	}
	h := &sigV4Header{
		accessKeyID: scope[0], scopeDate: scope[1], scopeRegion: scope[2], scopeService: scope[3],
		signedHeaders: strings.Split(elems["SignedHeaders"], ";"),
		signature:     elems["Signature"],
	}
	if !sort.StringsAreSorted(h.signedHeaders) {
		return nil, incompleteSignature("SignedHeaders must be sorted")
	}
	hasHost := false
	for _, name := range h.signedHeaders {
		if name == "" || name != strings.ToLower(name) {
			return nil, incompleteSignature("SignedHeaders must be lowercase header names separated by ';'")
		}
		hasHost = hasHost || name == "host"
	}
	if !hasHost {
		return nil, incompleteSignature("SignedHeaders must include 'host'")
	}
	return h, nil
}

// sigV4RequestTime returns the time r claims to have been signed at:
// X-Amz-Date, or the Date header when there is none. The header it comes
// from must be signed.
func sigV4RequestTime(r *http.Request, h *sigV4Header) (time.Time, string, *apiError) {
	signed := func(name string) bool {
		for _, s := range h.signedHeaders {
			if s == name {
				return true
			}
		}
		return false
	}
	if raw := r.Header.Get("X-Amz-Date"); raw != "" {
		t, err := time.Parse(sigV4TimeFormat, raw)
		if err != nil {
			return time.Time{}, "", incompleteSignature("X-Amz-Date must be in the ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z', not '%s'", raw)
		}
		if !signed("x-amz-date") {
			return time.Time{}, "", incompleteSignature("The x-amz-date header must be signed")
		}
		return t, raw, nil
	}
	if raw := r.Header.Get("Date"); raw != "" {
		t, err := http.ParseTime(raw)
		if err != nil {
			return time.Time{}, "", incompleteSignature("Date header is not an HTTP date: '%s'", raw)
		}
		if !signed("date") {
			return time.Time{}, "", incompleteSignature("The date header must be signed")
		}
		t = t.UTC()
		return t, t.Format(sigV4TimeFormat), nil
	}
	return time.Time{}, "", incompleteSignature("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
}

// sigV4CanonicalRequest builds r's canonical request.
func sigV4CanonicalRequest(r *http.Request, h *sigV4Header, body []byte) string {
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(sigV4Encode(path, false)) // the path as sent, encoded once more
	b.WriteByte('\n')
	b.WriteString(sigV4CanonicalQuery(r.URL.RawQuery))
	b.WriteByte('\n')
	for _, name := range h.signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(sigV4HeaderValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(h.signedHeaders, ";"))
	b.WriteByte('\n')
	sum := sha256.Sum256(body)
	b.WriteString(hex.EncodeToString(sum[:]))
	return b.String()
}

// sigV4CanonicalQuery encodes the query's parameters, sorted by name and
// then value.
func sigV4CanonicalQuery(rawQuery string) string {
	q, _ := url.ParseQuery(rawQuery) // a malformed pair is dropped: the signature then fails
	type pair struct{ name, value string }
	pairs := make([]pair, 0, len(q))
	for name, values := range q {
		for _, v := range values {
			pairs = append(pairs, pair{sigV4Encode(name, true), sigV4Encode(v, true)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].name != pairs[j].name {
			return pairs[i].name < pairs[j].name
		}
		return pairs[i].value < pairs[j].value
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.name)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// sigV4HeaderValue is the canonical value of the header name.
func sigV4HeaderValue(r *http.Request, name string) string {
	var values []string
	switch name {
	case "host": // Go's server moves Host out of the header map
		values = []string{r.Host}
	default:
		values = r.Header.Values(name)
		if name == "content-length" && len(values) == 0 && r.ContentLength >= 0 {
			values = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	}
	canonical := make([]string, len(values))
	for i, v := range values {
		canonical[i] = foldSpaces(strings.TrimSpace(v))
	}
	return strings.Join(canonical, ",")
}

// foldSpaces replaces each run of spaces in s by one space.
func foldSpaces(s string) string {
	for strings.Contains(s, "  ") {
		s = strings.ReplaceAll(s, "  ", " ")
	}
	return s
}

// sigV4Encode percent-encodes every byte but the unreserved characters
// (A-Z, a-z, 0-9, '-', '.', '_', '~'), with upper-case hex digits; '/' is
// kept unless encodeSlash.
func sigV4Encode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xf])
		}
	}
	return b.String()
}

// sigV4Signature signs the canonical request with secret.
func sigV4Signature(secret string, h *sigV4Header, requestTime, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	stringToSign := sigV4Algorithm + "\n" + requestTime + "\n" + h.scope() + "\n" + hex.EncodeToString(sum[:])
	key := hmacSHA256([]byte("AWS4"+secret), h.scopeDate)
	key = hmacSHA256(key, h.scopeRegion)
	key = hmacSHA256(key, h.scopeService)
	key = hmacSHA256(key, "aws4_request")
	return hex.EncodeToString(hmacSHA256(key, stringToSign))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
