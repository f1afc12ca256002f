package awssim

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// CloudWatch (signing name monitoring) speaks Smithy RPC v2 CBOR, as
// aws-sdk-go-v2's service/cloudwatch v1.53 and later do:
//
//	POST /service/GraniteServiceVersion20100801/operation/<Operation>
//	Smithy-Protocol: rpc-v2-cbor
//	Content-Type: application/cbor     (absent when there is no input)
//	X-Amzn-Query-Mode: true            (the client is awsQuery-compatible)
//
// Responses carry Smithy-Protocol: rpc-v2-cbor and a CBOR map body;
// timestamps are tag 1 (epoch seconds). Errors are a CBOR map {"__type":
// shape id, "message": text} plus, because CloudWatch is awsQuery
// compatible, the header X-Amzn-Query-Error: <Query code>;Sender|Receiver
// from which the SDK takes the error code (AccessDenied,
// InvalidParameterValue, ValidationError ...).
//
// CloudWatch's awsJson1_0 mode (POST / with X-Amz-Target
// GraniteServiceVersion20100801.<Operation>), which botocore and so the
// aws CLI pick, is answered too, from the same handlers.

const (
	cloudWatchSigningName = "monitoring"
	cwPathPrefix          = "/service/GraniteServiceVersion20100801/operation/"
	// cwListMetricsPage is ListMetrics' page size.
	cwListMetricsPage = 500
	// cwMaxQueries bounds MetricDataQueries.
	cwMaxQueries = 500
	// cwMaxDatapoints bounds the datapoints of one GetMetricData response.
	cwMaxDatapoints = 100800
)

// newCloudWatchService builds the CloudWatch simulator; it makes the
// Server's clock replaceable (SetNow), so it must run inside New.
func newCloudWatchService(s *Server) *cloudWatchService {
	return &cloudWatchService{s: s, clock: installClock(s)}
}

type cloudWatchService struct {
	s     *Server
	clock *simClock
}

// cwErrorTypes maps Query error codes to the __type CloudWatch's CBOR
// errors carry: the modelled error shapes, else the service framework's.
var cwErrorTypes = map[string]string{
	"InvalidParameterValue":       "com.amazonaws.cloudwatch#InvalidParameterValueException",
	"InvalidParameterCombination": "com.amazonaws.cloudwatch#InvalidParameterCombinationException",
	"MissingParameter":            "com.amazonaws.cloudwatch#MissingRequiredParameterException",
	"InvalidNextToken":            "com.amazonaws.cloudwatch#InvalidNextToken",
	"InternalServiceError":        "com.amazonaws.cloudwatch#InternalServiceFault",
	"LimitExceeded":               "com.amazonaws.cloudwatch#LimitExceededFault",
	"ValidationError":             "com.amazonaws.cloudwatch#ValidationException",
	"AccessDenied":                "com.amazon.coral.service#AccessDeniedException",
	"Throttling":                  "com.amazon.coral.availability#ThrottlingException",
	"InvalidClientTokenId":        "com.amazon.coral.service#UnrecognizedClientException",
	"SignatureDoesNotMatch":       "com.amazon.coral.service#InvalidSignatureException",
	"ExpiredToken":                "com.amazon.coral.service#ExpiredTokenException",
	"IncompleteSignature":         "com.amazon.coral.service#IncompleteSignatureException",
	"MissingAuthenticationToken":  "com.amazon.coral.service#MissingAuthenticationTokenException",
	"UnknownOperation":            "com.amazon.coral.service#UnknownOperationException",
	"SerializationException":      "com.amazon.coral.service#SerializationException",
}

func (sv *cloudWatchService) writeError(w http.ResponseWriter, e *apiError, requestID string) {
	sv.writeErrorAs(w, e, requestID, false)
}

// writeErrorAs writes e in CBOR, or in awsJson1_0 for the JSON mode.
// Errors ServeHTTP writes (authentication) always come in CBOR: it does
// not say which protocol the request used.
func (sv *cloudWatchService) writeErrorAs(w http.ResponseWriter, e *apiError, requestID string, asJSON bool) {
	typ, ok := cwErrorTypes[e.code]
	if !ok {
		typ = "com.amazon.coral.service#" + e.code
	}
	fault := "Sender"
	if e.status >= 500 {
		fault = "Receiver"
	}
	h := w.Header()
	setDate(w, sv.s.authNow())
	var body []byte
	if asJSON {
		body, _ = json.Marshal(map[string]string{"__type": typ, "message": e.message})
		h.Set("Content-Type", cwJSONContentType)
	} else {
		body = cbor.Encode(cbor.Map{"__type": cbor.String(typ), "message": cbor.String(e.message)})
		h.Set("Smithy-Protocol", "rpc-v2-cbor")
		h.Set("Content-Type", "application/cbor")
	}
	h.Set("X-Amzn-Query-Error", e.code+";"+fault)
	h.Set("x-amzn-RequestId", requestID)
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

func cwValidation(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "ValidationError", format, args...)
}

// The awsJson1_0 mode's target prefix and content type.
const (
	cwJSONTargetPrefix = "GraniteServiceVersion20100801."
	cwJSONContentType  = "application/x-amz-json-1.0"
)

func (sv *cloudWatchService) serve(w http.ResponseWriter, r *http.Request, req *request) {
	op, ok := strings.CutPrefix(r.URL.Path, cwPathPrefix)
	asJSON := false
	if !ok && r.URL.Path == "/" {
		if op, ok = strings.CutPrefix(r.Header.Get("X-Amz-Target"), cwJSONTargetPrefix); ok {
			asJSON = true
		}
	}
	var aerr *apiError
	switch {
	case r.Method != http.MethodPost:
		aerr = errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "Method %s is not allowed; use POST", r.Method)
	case !ok || op == "" || strings.Contains(op, "/"):
		aerr = errorf(http.StatusNotFound, "UnknownOperation", "awssim speaks CloudWatch's rpc-v2-cbor protocol (POST %s<Operation>) and awsJson1_0, not %s", cwPathPrefix, r.URL.Path)
	case asJSON:
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != cwJSONContentType {
			aerr = errorf(http.StatusBadRequest, "SerializationException", "Content-Type must be %s", cwJSONContentType)
		}
	case r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor":
		aerr = errorf(http.StatusBadRequest, "SerializationException", "Smithy-Protocol must be rpc-v2-cbor")
	case len(req.body) > 0:
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/cbor" {
			aerr = errorf(http.StatusUnsupportedMediaType, "SerializationException", "Content-Type must be application/cbor")
		}
	}
	var in cbor.Map
	if aerr == nil {
		if f := sv.s.takeFailure(cloudWatchSigningName, op); f != nil {
			aerr = f
		}
	}
	if aerr == nil {
		if asJSON {
			in, aerr = cwDecodeJSONInput(req.body)
		} else {
			in, aerr = cwDecodeInput(req.body)
		}
	}
	var out cbor.Map
	var queries []MetricQuery
	if aerr == nil {
		switch op {
		case "ListMetrics":
			out, aerr = sv.listMetrics(in, req)
		case "GetMetricData":
			out, queries, aerr = sv.getMetricData(in, req)
		default:
			aerr = errorf(http.StatusBadRequest, "UnknownOperation", "awssim does not simulate CloudWatch's %s", op)
		}
	}
	sv.s.record(req, op, aerr, queries)
	if aerr != nil {
		sv.writeErrorAs(w, aerr, req.id, asJSON)
		return
	}
	var body []byte
	h := w.Header()
	setDate(w, sv.s.authNow())
	if asJSON {
		var err error
		if body, err = json.Marshal(cwToJSON(out)); err != nil {
			sv.writeErrorAs(w, errorf(http.StatusInternalServerError, "InternalServiceError", "awssim: %v", err), req.id, true)
			return
		}
		h.Set("Content-Type", cwJSONContentType)
	} else {
		body = cbor.Encode(out)
		h.Set("Smithy-Protocol", "rpc-v2-cbor")
		h.Set("Content-Type", "application/cbor")
	}
	h.Set("x-amzn-RequestId", req.id)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// cwDecodeJSONInput reads an awsJson1_0 body into the CBOR value tree the
// handlers take; the timestamps (StartTime, EndTime: epoch seconds) become
// tag 1.
func cwDecodeJSONInput(body []byte) (cbor.Map, *apiError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return cbor.Map{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errorf(http.StatusBadRequest, "SerializationException", "the request body is not valid JSON: %v", err)
	}
	m, ok := cwFromJSON(v).(cbor.Map)
	if !ok {
		return nil, errorf(http.StatusBadRequest, "SerializationException", "the request body is not a JSON object")
	}
	for _, k := range []string{"StartTime", "EndTime"} {
		if v, ok := m[k]; ok && !cwIsNull(v) {
			if _, isString := v.(cbor.String); !isString {
				m[k] = &cbor.Tag{ID: 1, Value: v}
			}
		}
	}
	return m, nil
}

func cwFromJSON(v any) cbor.Value {
	switch x := v.(type) {
	case map[string]any:
		m := cbor.Map{}
		for k, e := range x {
			m[k] = cwFromJSON(e)
		}
		return m
	case []any:
		l := cbor.List{}
		for _, e := range x {
			l = append(l, cwFromJSON(e))
		}
		return l
	case string:
		return cbor.String(x)
	case bool:
		return cbor.Bool(x)
	case json.Number:
		if n, err := x.Int64(); err == nil {
			if n < 0 {
				return cbor.NegInt(uint64(-1 - n))
			}
			return cbor.Uint(uint64(n))
		}
		f, _ := x.Float64()
		return cbor.Float64(f)
	}
	return &cbor.Nil{}
}

// cwToJSON turns a handler's output into JSON values (timestamps as epoch
// seconds).
func cwToJSON(v cbor.Value) any {
	switch x := v.(type) {
	case cbor.Map:
		m := map[string]any{}
		for k, e := range x {
			m[k] = cwToJSON(e)
		}
		return m
	case cbor.List:
		l := make([]any, 0, len(x))
		for _, e := range x {
			l = append(l, cwToJSON(e))
		}
		return l
	case cbor.String:
		return string(x)
	case cbor.Bool:
		return bool(x)
	case cbor.Uint:
		return uint64(x)
	case cbor.Float64:
		return float64(x)
	case *cbor.Tag:
		return cwToJSON(x.Value)
	}
	return nil
}

// cwDecodeInput decodes a request body: a CBOR map, or nothing.
func cwDecodeInput(body []byte) (cbor.Map, *apiError) {
	if len(body) == 0 {
		return cbor.Map{}, nil
	}
	v, err := cbor.Decode(body)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "SerializationException", "the request body is not valid CBOR: %v", err)
	}
	m, ok := v.(cbor.Map)
	if !ok {
		return nil, errorf(http.StatusBadRequest, "SerializationException", "the request body is not a CBOR map")
	}
	return m, nil
}

// CBOR input accessors: each returns whether the member was present (and
// not null) and a SerializationException when it has the wrong type.

func cwIsNull(v cbor.Value) bool {
	switch v.(type) {
	case nil, *cbor.Nil, *cbor.Undefined:
		return true
	}
	return false
}

func cwString(m cbor.Map, key string) (string, bool, *apiError) {
	v, ok := m[key]
	if !ok || cwIsNull(v) {
		return "", false, nil
	}
	s, ok := v.(cbor.String)
	if !ok {
		return "", false, errorf(http.StatusBadRequest, "SerializationException", "%s must be a string", key)
	}
	return string(s), true, nil
}

func cwInt(m cbor.Map, key string) (int64, bool, *apiError) {
	v, ok := m[key]
	if !ok || cwIsNull(v) {
		return 0, false, nil
	}
	switch n := v.(type) {
	case cbor.Uint:
		if n > math.MaxInt32 {
			return 0, false, errorf(http.StatusBadRequest, "SerializationException", "%s is out of range", key)
		}
		return int64(n), true, nil
	case cbor.NegInt:
		if n > math.MaxInt32 {
			return 0, false, errorf(http.StatusBadRequest, "SerializationException", "%s is out of range", key)
		}
		return -1 - int64(n), true, nil
	}
	return 0, false, errorf(http.StatusBadRequest, "SerializationException", "%s must be an integer", key)
}

func cwBool(m cbor.Map, key string) (bool, bool, *apiError) {
	v, ok := m[key]
	if !ok || cwIsNull(v) {
		return false, false, nil
	}
	b, ok := v.(cbor.Bool)
	if !ok {
		return false, false, errorf(http.StatusBadRequest, "SerializationException", "%s must be a boolean", key)
	}
	return bool(b), true, nil
}

func cwTime(m cbor.Map, key string) (time.Time, bool, *apiError) {
	v, ok := m[key]
	if !ok || cwIsNull(v) {
		return time.Time{}, false, nil
	}
	bad := errorf(http.StatusBadRequest, "SerializationException", "%s must be a timestamp (tag 1)", key)
	tag, ok := v.(*cbor.Tag)
	if !ok || tag.ID != 1 {
		return time.Time{}, false, bad
	}
	var secs float64
	switch n := tag.Value.(type) {
	case cbor.Uint:
		return time.Unix(int64(n), 0).UTC(), true, nil
	case cbor.NegInt:
		return time.Unix(-1-int64(n), 0).UTC(), true, nil
	case cbor.Float64:
		secs = float64(n)
	case cbor.Float32:
		secs = float64(n)
	default:
		return time.Time{}, false, bad
	}
	if math.IsNaN(secs) || math.IsInf(secs, 0) {
		return time.Time{}, false, bad
	}
	whole := math.Floor(secs)
	return time.Unix(int64(whole), int64(math.Round((secs-whole)*1e3))*int64(time.Millisecond)).UTC(), true, nil
}

func cwList(m cbor.Map, key string) (cbor.List, *apiError) {
	v, ok := m[key]
	if !ok || cwIsNull(v) {
		return nil, nil
	}
	l, ok := v.(cbor.List)
	if !ok {
		return nil, errorf(http.StatusBadRequest, "SerializationException", "%s must be a list", key)
	}
	return l, nil
}

func cwMap(m cbor.Map, key string) (cbor.Map, bool, *apiError) {
	v, ok := m[key]
	if !ok || cwIsNull(v) {
		return nil, false, nil
	}
	mm, ok := v.(cbor.Map)
	if !ok {
		return nil, false, errorf(http.StatusBadRequest, "SerializationException", "%s must be a structure", key)
	}
	return mm, true, nil
}

// cwDimensions reads a list of {Name, Value}; requireValue demands Value
// (metrics), otherwise it may be absent (ListMetrics' DimensionFilter,
// returned with ok false in the second map).
func cwDimensions(m cbor.Map, key string, requireValue bool) (map[string]string, map[string]bool, *apiError) {
	l, aerr := cwList(m, key)
	if aerr != nil {
		return nil, nil, aerr
	}
	dims := map[string]string{}
	hasValue := map[string]bool{}
	for i, it := range l {
		dm, ok := it.(cbor.Map)
		if !ok {
			return nil, nil, errorf(http.StatusBadRequest, "SerializationException", "%s.member.%d must be a structure", key, i+1)
		}
		name, _, aerr := cwString(dm, "Name")
		if aerr != nil {
			return nil, nil, aerr
		}
		value, hv, aerr := cwString(dm, "Value")
		if aerr != nil {
			return nil, nil, aerr
		}
		if name == "" || len(name) > 255 || len(value) > 1024 {
			return nil, nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "The value for parameter %s.member.%d.Name must be 1 to 255 characters", key, i+1)
		}
		if requireValue && !hv {
			return nil, nil, errorf(http.StatusBadRequest, "MissingParameter", "The parameter %s.member.%d.Value is required.", key, i+1)
		}
		if _, dup := dims[name]; dup {
			return nil, nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "The collection %s must not have duplicate dimension names: %s", key, name)
		}
		dims[name] = value
		hasValue[name] = hv
	}
	if len(dims) > 30 {
		return nil, nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "The collection %s must not have a size greater than 30.", key)
	}
	return dims, hasValue, nil
}

func cwDimensionList(dims map[string]string) cbor.List {
	names := make([]string, 0, len(dims))
	for n := range dims {
		names = append(names, n)
	}
	sort.Strings(names)
	out := cbor.List{}
	for _, n := range names {
		out = append(out, cbor.Map{"Name": cbor.String(n), "Value": cbor.String(dims[n])})
	}
	return out
}

// cwToken is an opaque NextToken: JSON of the paging state plus a digest of
// the request it continues, base64url-encoded.
func cwEncodeToken(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func cwDecodeToken(tok string, v any) *apiError {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		return errorf(http.StatusBadRequest, "InvalidNextToken", "The service returned an invalid next token")
	}
	return nil
}

func cwDigest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

type cwListToken struct {
	Offset int    `json:"o"`
	Digest string `json:"d"`
}

func (sv *cloudWatchService) listMetrics(in cbor.Map, req *request) (cbor.Map, *apiError) {
	if err := sv.s.authorize(req, "cloudwatch:ListMetrics", "*"); err != nil {
		return nil, err
	}
	namespace, hasNS, aerr := cwString(in, "Namespace")
	if aerr != nil {
		return nil, aerr
	}
	metricName, hasName, aerr := cwString(in, "MetricName")
	if aerr != nil {
		return nil, aerr
	}
	dimFilter, dimHasValue, aerr := cwDimensions(in, "Dimensions", false)
	if aerr != nil {
		return nil, aerr
	}
	if len(dimFilter) > 10 {
		return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "The collection Dimensions must not have a size greater than 10.")
	}
	recent, hasRecent, aerr := cwString(in, "RecentlyActive")
	if aerr != nil {
		return nil, aerr
	}
	if hasRecent && recent != "PT3H" {
		return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "The parameter RecentlyActive must be PT3H.")
	}
	token, hasToken, aerr := cwString(in, "NextToken")
	if aerr != nil {
		return nil, aerr
	}
	if _, _, aerr := cwBool(in, "IncludeLinkedAccounts"); aerr != nil {
		return nil, aerr
	}
	digest := cwDigest(namespace, metricName, dimsKey(dimFilter), fmt.Sprint(dimHasValue), recent)
	offset := 0
	if hasToken {
		var t cwListToken
		if aerr := cwDecodeToken(token, &t); aerr != nil {
			return nil, aerr
		}
		if t.Digest != digest || t.Offset < 0 {
			return nil, errorf(http.StatusBadRequest, "InvalidNextToken", "The service returned an invalid next token")
		}
		offset = t.Offset
	}

	index, _ := sv.s.seriesOf(req)
	var all []*series
	for _, sr := range index.sorted {
		if hasNS && sr.namespace != namespace || hasName && sr.metric != metricName || hasRecent && !sr.reporting {
			continue
		}
		match := true
		for n, v := range dimFilter {
			rv, ok := sr.dims[n]
			if !ok || (dimHasValue[n] && rv != v) {
				match = false
				break
			}
		}
		if match {
			all = append(all, sr)
		}
	}
	if offset > len(all) {
		offset = len(all)
	}
	page := all[offset:]
	out := cbor.Map{}
	if len(page) > cwListMetricsPage {
		page = page[:cwListMetricsPage]
		out["NextToken"] = cbor.String(cwEncodeToken(cwListToken{Offset: offset + cwListMetricsPage, Digest: digest}))
	}
	metrics := cbor.List{}
	for _, m := range page {
		metrics = append(metrics, cbor.Map{
			"Namespace":  cbor.String(m.namespace),
			"MetricName": cbor.String(m.metric),
			"Dimensions": cwDimensionList(m.dims),
		})
	}
	out["Metrics"] = metrics
	return out, nil
}

// cwQuery is one parsed MetricDataQuery.
type cwQuery struct {
	id, label, namespace, metric, stat string
	dims                               map[string]string
	period                             int64
	returnData                         bool
}

var cwQueryID = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

// cwPeriodOK reports whether CloudWatch accepts a MetricStat period: 1, 5,
// 10, 30 (high resolution) or a multiple of 60 seconds.
func cwPeriodOK(p int64) bool {
	switch p {
	case 1, 5, 10, 30:
		return true
	}
	return p >= 60 && p%60 == 0
}

func cwParseQueries(in cbor.Map) ([]cwQuery, *apiError) {
	l, aerr := cwList(in, "MetricDataQueries")
	if aerr != nil {
		return nil, aerr
	}
	if len(l) == 0 {
		return nil, errorf(http.StatusBadRequest, "MissingParameter", "The parameter MetricDataQueries is required.")
	}
	var out []cwQuery
	ids := map[string]bool{}
	for i, it := range l {
		field := fmt.Sprintf("MetricDataQueries.member.%d", i+1)
		qm, ok := it.(cbor.Map)
		if !ok {
			return nil, errorf(http.StatusBadRequest, "SerializationException", "%s must be a structure", field)
		}
		var q cwQuery
		q.id, _, aerr = cwString(qm, "Id")
		if aerr != nil {
			return nil, aerr
		}
		if !cwQueryID.MatchString(q.id) || len(q.id) > 255 {
			return nil, cwValidation("The value %s for parameter %s.Id is not matching the expected pattern ^[a-z][a-zA-Z0-9_]*$.", q.id, field)
		}
		if ids[q.id] {
			return nil, cwValidation("The values for parameter id in MetricDataQueries are not unique.")
		}
		ids[q.id] = true
		label, hasLabel, aerr := cwString(qm, "Label")
		if aerr != nil {
			return nil, aerr
		}
		rd, hasRD, aerr := cwBool(qm, "ReturnData")
		if aerr != nil {
			return nil, aerr
		}
		q.returnData = rd || !hasRD
		if _, hasExpr, aerr := cwString(qm, "Expression"); aerr != nil {
			return nil, aerr
		} else if hasExpr {
			return nil, cwValidation("%s.Expression: metric math and Metrics Insights expressions are not simulated by awssim", field)
		}
		ms, hasMS, aerr := cwMap(qm, "MetricStat")
		if aerr != nil {
			return nil, aerr
		}
		if !hasMS {
			return nil, cwValidation("Exactly one of %s.MetricStat and %s.Expression must be set.", field, field)
		}
		metric, hasMetric, aerr := cwMap(ms, "Metric")
		if aerr != nil {
			return nil, aerr
		}
		if !hasMetric {
			return nil, errorf(http.StatusBadRequest, "MissingParameter", "The parameter %s.MetricStat.Metric is required.", field)
		}
		if q.namespace, _, aerr = cwString(metric, "Namespace"); aerr != nil {
			return nil, aerr
		}
		if q.metric, _, aerr = cwString(metric, "MetricName"); aerr != nil {
			return nil, aerr
		}
		if q.namespace == "" || q.metric == "" {
			return nil, errorf(http.StatusBadRequest, "MissingParameter", "The parameters %s.MetricStat.Metric.Namespace and MetricName are required.", field)
		}
		if q.dims, _, aerr = cwDimensions(metric, "Dimensions", true); aerr != nil {
			return nil, aerr
		}
		period, hasPeriod, aerr := cwInt(ms, "Period")
		if aerr != nil {
			return nil, aerr
		}
		if !hasPeriod {
			return nil, errorf(http.StatusBadRequest, "MissingParameter", "The parameter %s.MetricStat.Period is required.", field)
		}
		if !cwPeriodOK(period) {
			return nil, cwValidation("The parameter %s.MetricStat.Period must be 1, 5, 10, 30 or a multiple of 60.", field)
		}
		q.period = period
		if q.stat, _, aerr = cwString(ms, "Stat"); aerr != nil {
			return nil, aerr
		}
		if q.stat == "" {
			return nil, errorf(http.StatusBadRequest, "MissingParameter", "The parameter %s.MetricStat.Stat is required.", field)
		}
		if !supportedStat(q.stat) {
			return nil, cwValidation("The parameter %s.MetricStat.Stat %q is not simulated by awssim (Average, Sum, Minimum, Maximum, SampleCount, pNN.N).", field, q.stat)
		}
		if _, _, aerr := cwString(ms, "Unit"); aerr != nil {
			return nil, aerr
		}
		q.label = q.metric
		if hasLabel {
			q.label = label
		}
		out = append(out, q)
	}
	if len(out) > cwMaxQueries {
		return out, cwValidation("The collection MetricDataQueries must not have a size greater than %d.", cwMaxQueries)
	}
	return out, nil
}

type cwDataToken struct {
	Query  int    `json:"q"`
	After  *int64 `json:"a,omitempty"` // last timestamp returned for Query
	Digest string `json:"d"`
}

// cwSeries is the datapoint grid of one query: period starts lo, lo+step,
// ..., hi (none when hi < lo).
type cwSeries struct {
	lo, hi, step int64
	base         float64
	native       time.Duration
	period       time.Duration
}

// retention is how far back CloudWatch keeps datapoints of a period.
func retention(period time.Duration) time.Duration {
	switch {
	case period < time.Minute:
		return 3 * time.Hour
	case period < 5*time.Minute:
		return 15 * 24 * time.Hour
	case period < time.Hour:
		return 63 * 24 * time.Hour
	}
	return 455 * 24 * time.Hour
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }

// floorUnix is the largest whole second at or before t.
func floorUnix(t time.Time) int64 { return t.Unix() }

// ceilUnix is the smallest whole second at or after t.
func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// series computes which period starts T of a query have a datapoint: T is
// a multiple of the effective period, StartTime <= T < EndTime, T is
// within the period's retention, and T + period + delay <= now.
func cwSeriesOf(q cwQuery, sr *series, start, end, now time.Time, delay time.Duration) cwSeries {
	native := NativeResolution(q.namespace, q.metric)
	if sr != nil {
		native = sr.resolution
		delay += sr.delay
	}
	period := max(time.Duration(q.period)*time.Second, native)
	step := int64(period / time.Second)
	ser := cwSeries{step: step, native: native, period: period, lo: 1, hi: 0}
	if sr == nil || !sr.reporting {
		return ser
	}
	from := ceilUnix(start)
	if r := ceilUnix(now.Add(-retention(period))); r > from {
		from = r
	}
	to := ceilUnix(end) - 1 // T < EndTime
	if l := floorUnix(now.Add(-period - delay)); l < to {
		to = l // T + period + delay <= now
	}
	ser.lo = ceilDiv(from, step) * step
	ser.hi = floorDiv(to, step) * step
	ser.base = metricBase(q.namespace, q.metric, q.dims)
	return ser
}

func (sv *cloudWatchService) getMetricData(in cbor.Map, req *request) (cbor.Map, []MetricQuery, *apiError) {
	queries, aerr := cwParseQueries(in)
	var logged []MetricQuery
	for _, q := range queries {
		logged = append(logged, MetricQuery{ID: q.id, Namespace: q.namespace, MetricName: q.metric, Dimensions: q.dims,
			Period: int32(q.period), Stat: q.stat})
	}
	if aerr != nil {
		return nil, logged, aerr
	}
	if err := sv.s.authorize(req, "cloudwatch:GetMetricData", "*"); err != nil {
		return nil, logged, err
	}
	start, hasStart, aerr := cwTime(in, "StartTime")
	if aerr != nil {
		return nil, logged, aerr
	}
	end, hasEnd, aerr := cwTime(in, "EndTime")
	if aerr != nil {
		return nil, logged, aerr
	}
	if !hasStart || !hasEnd {
		return nil, logged, errorf(http.StatusBadRequest, "MissingParameter", "The parameters StartTime and EndTime are required.")
	}
	if !start.Before(end) {
		return nil, logged, cwValidation("The parameter StartTime must be less than the parameter EndTime.")
	}
	scanBy, _, aerr := cwString(in, "ScanBy")
	if aerr != nil {
		return nil, logged, aerr
	}
	ascending := false
	switch scanBy {
	case "", "TimestampDescending":
	case "TimestampAscending":
		ascending = true
	default:
		return nil, logged, cwValidation("1 validation error detected: Value '%s' at 'scanBy' failed to satisfy constraint: Member must satisfy enum value set: [TimestampDescending, TimestampAscending]", scanBy)
	}
	limit := int64(cwMaxDatapoints)
	if n, ok, aerr := cwInt(in, "MaxDatapoints"); aerr != nil {
		return nil, logged, aerr
	} else if ok {
		if n < 1 {
			return nil, logged, cwValidation("The parameter MaxDatapoints must be greater than 0.")
		}
		limit = min(limit, n)
	}
	qdesc := make([]string, 0, len(queries))
	for _, q := range queries {
		qdesc = append(qdesc, fmt.Sprintf("%s|%s|%s|%s|%d|%s|%v", q.id, q.namespace, q.metric, dimsKey(q.dims), q.period, q.stat, q.returnData))
	}
	digest := cwDigest(strings.Join(qdesc, "\n"), start.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano), scanBy)
	tok := cwDataToken{}
	if s, ok, aerr := cwString(in, "NextToken"); aerr != nil {
		return nil, logged, aerr
	} else if ok {
		if aerr := cwDecodeToken(s, &tok); aerr != nil {
			return nil, logged, aerr
		}
		if tok.Digest != digest || tok.Query < 0 || tok.Query >= len(queries) {
			return nil, logged, errorf(http.StatusBadRequest, "InvalidNextToken", "The service returned an invalid next token")
		}
	}

	// The metrics that exist, by namespace, name and dimension set.
	index, delay := sv.s.seriesOf(req)

	now := req.time
	remaining := limit
	results := cbor.List{}
	out := cbor.Map{}
	for qi := tok.Query; qi < len(queries); qi++ {
		q := queries[qi]
		if !q.returnData {
			continue
		}
		if remaining == 0 {
			out["NextToken"] = cbor.String(cwEncodeToken(cwDataToken{Query: qi, Digest: digest}))
			break
		}
		ser := cwSeriesOf(q, index.byKey[seriesKey(q.namespace, q.metric, q.dims)], start, end, now, delay)
		if qi == tok.Query && tok.After != nil { // resume after the last point returned
			if ascending {
				ser.lo = max(ser.lo, *tok.After+ser.step)
			} else {
				ser.hi = min(ser.hi, *tok.After-ser.step)
			}
		}
		n := int64(0)
		if ser.hi >= ser.lo {
			n = (ser.hi-ser.lo)/ser.step + 1
		}
		status := "Complete"
		if n > remaining {
			n = remaining
			status = "PartialData"
		}
		ts := make(cbor.List, 0, n)
		vals := make(cbor.List, 0, n)
		var last int64
		for i := int64(0); i < n; i++ {
			t := ser.lo + i*ser.step
			if !ascending {
				t = ser.hi - i*ser.step
			}
			last = t
			ts = append(ts, &cbor.Tag{ID: 1, Value: cbor.Uint(uint64(t))})
			vals = append(vals, cbor.Float64(metricValue(ser.base, ser.native, q.stat, time.Unix(t, 0), ser.period)))
		}
		remaining -= n
		results = append(results, cbor.Map{
			"Id":         cbor.String(q.id),
			"Label":      cbor.String(q.label),
			"Timestamps": ts,
			"Values":     vals,
			"StatusCode": cbor.String(status),
			"Messages":   cbor.List{},
		})
		if status == "PartialData" {
			out["NextToken"] = cbor.String(cwEncodeToken(cwDataToken{Query: qi, After: &last, Digest: digest}))
			break
		}
	}
	out["MetricDataResults"] = results
	out["Messages"] = cbor.List{}
	return out, logged, nil
}
