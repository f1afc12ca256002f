package awssim

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file holds what the ELB, RDS, Lambda, SQS and DynamoDB simulators
// share: the awsJson1_0 protocol (SQS, DynamoDB), JSON response writing
// (also Lambda's REST-JSON), opaque pagination tokens, and values derived
// from a resource's identity (DNS name digits, creation times, resource
// ids), which must be the same on every call without being stored in the
// scenario.

// awsJSON10 is the Content-Type of awsJson1_0 requests and responses.
const awsJSON10 = "application/x-amz-json-1.0"

// awsJSONOperation checks that r is an awsJson1_0 request (POST,
// Content-Type application/x-amz-json-1.0, X-Amz-Target
// "<targetPrefix>.<Operation>") and returns the operation. The error codes
// are the ones AWS's JSON services (Coral) answer with.
func awsJSONOperation(r *http.Request, targetPrefix string) (string, *apiError) {
	if r.Method != http.MethodPost {
		return "", errorf(http.StatusMethodNotAllowed, "UnknownOperationException", "Method %s is not allowed; awsJson requests are POSTs", r.Method)
	}
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, targetPrefix+".")
	if !ok || op == "" {
		return "", errorf(http.StatusBadRequest, "UnknownOperationException", "X-Amz-Target %q does not name an operation of %s", target, targetPrefix)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != awsJSON10 && mt != "application/x-amz-json-1.1" && mt != "application/json") {
			return op, errorf(http.StatusBadRequest, "SerializationException", "Content-Type %q is not %s", ct, awsJSON10)
		}
	}
	return op, nil
}

// decodeJSONInput decodes an awsJson request body (empty means {}) into v.
func decodeJSONInput(body []byte, v any) *apiError {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "SerializationException", "Could not parse the request body: %v", err)
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "SerializationException", "Unexpected data after the JSON request body")
	}
	return nil
}

// writeJSONResponse writes v as the JSON body of a response with the given
// status and Content-Type. withCRC adds X-Amz-Crc32 (DynamoDB's response
// integrity header, the IEEE CRC-32 of the body in decimal).
func writeJSONResponse(w http.ResponseWriter, status int, contentType string, v any, requestID string, withCRC bool) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"__type":"com.amazon.coral.service#InternalFailure","message":"awssim: encoding the response failed"}`)
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("x-amzn-RequestId", requestID)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	if withCRC {
		h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10))
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// awsJSONError is the error body of the awsJson protocols: __type is the
// error's shape id (namespace#Name; clients keep what follows the '#').
type awsJSONError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// writeAWSJSONError writes an awsJson1_0 error with the given status, shape
// id and message.
func writeAWSJSONError(w http.ResponseWriter, status int, shapeID, message, requestID string, withCRC bool) {
	writeJSONResponse(w, status, awsJSON10, awsJSONError{Type: shapeID, Message: message}, requestID, withCRC)
}

// epochSeconds renders t as the JSON protocols' default timestamp format:
// seconds since the epoch, with milliseconds.
func epochSeconds(t time.Time) json.Number {
	return json.Number(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64))
}

// performCall runs one API call of req's service: an injected failure
// (FailNextAction) if one is pending, else h. The call is recorded with its
// outcome either way; the caller writes the result or the error.
func (s *Server) performCall(req *request, action string, h func() (any, *apiError)) (any, *apiError) {
	aerr := s.takeFailure(req.service, action)
	var out any
	if aerr == nil {
		out, aerr = h()
	}
	s.record(req, action, aerr, nil)
	return out, aerr
}

// ---- pagination ----

// resumeToken is an opaque pagination token (a Marker, NextToken, …)
// meaning "continue after the item whose sort key is after". kind binds
// the token to one listing so that tokens cannot be mixed up.
func resumeToken(kind, after string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + "\x00" + after))
}

// parseResumeToken decodes a resumeToken of kind.
func parseResumeToken(kind, token string) (after string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", false
	}
	k, after, found := strings.Cut(string(b), "\x00")
	if !found || k != kind {
		return "", false
	}
	return after, true
}

// pageAfter sorts items by key and returns at most n of them whose key
// sorts after the given one ("" starts at the beginning), and whether more
// follow. Continuing after a key (rather than an offset) keeps pages
// consistent when resources are created or deleted between calls.
func pageAfter[T any](items []T, key func(T) string, after string, n int) (page []T, more bool) {
	sorted := append([]T(nil), items...)
	sort.SliceStable(sorted, func(i, j int) bool { return key(sorted[i]) < key(sorted[j]) })
	start := sort.Search(len(sorted), func(i int) bool { return key(sorted[i]) > after })
	if after == "" {
		start = 0
	}
	rest := sorted[start:]
	if n > 0 && len(rest) > n {
		return rest[:n], true
	}
	return rest, false
}

// tagKeysSorted returns a resource's tag keys in order.
func tagKeysSorted(t Tags) []string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ---- values derived from a resource's identity ----

// identityDigest hashes the parts naming a resource (kind, account, region,
// name …) into the seed of its derived values.
func identityDigest(parts ...string) [32]byte {
	return sha256.Sum256([]byte(strings.Join(parts, "\x00")))
}

// digestDigits returns n decimal digits derived from parts (n ≤ 19), the
// first one non-zero.
func digestDigits(n int, parts ...string) string {
	d := identityDigest(parts...)
	v := binary.BigEndian.Uint64(d[:8])
	var b strings.Builder
	for i := 0; i < n; i++ {
		digit := v % 10
		v /= 10
		if i == 0 && digit == 0 {
			digit = 1 + uint64(d[8])%9
		}
		b.WriteByte(byte('0' + digit))
	}
	return b.String()
}

// digestAlnum returns n lowercase letters and digits derived from parts.
func digestAlnum(n int, parts ...string) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	d := identityDigest(parts...)
	out := make([]byte, n)
	for i := range out {
		out[i] = alphabet[int(d[i%len(d)]+byte(i/len(d)))%len(alphabet)]
	}
	return string(out)
}

// digestHex returns n lowercase hex digits derived from parts (n ≤ 64).
func digestHex(n int, parts ...string) string {
	d := identityDigest(parts...)
	const hexdigits = "0123456789abcdef"
	out := make([]byte, n)
	for i := range out {
		b := d[i/2]
		if i%2 == 0 {
			out[i] = hexdigits[b>>4]
		} else {
			out[i] = hexdigits[b&0xf]
		}
	}
	return string(out)
}

// digestUUID returns a UUID-shaped id derived from parts.
func digestUUID(parts ...string) string {
	h := digestHex(32, parts...)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

// digestTime returns a creation time derived from parts: a whole second
// in 2023 or 2024, so that resources appear to have existed for a while
// and the same resource always reports the same time.
func digestTime(parts ...string) time.Time {
	d := identityDigest(parts...)
	base := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	span := uint64(2 * 365 * 24 * time.Hour / time.Second)
	return base.Add(time.Duration(binary.BigEndian.Uint64(d[8:16])%span) * time.Second)
}
