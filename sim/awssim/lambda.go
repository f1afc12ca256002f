package awssim

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// AWS Lambda (REST-JSON): ListFunctions, GetFunctionConfiguration and
// ListTags. Operations are routed by method and path:
//
//	GET /2015-03-31/functions/?Marker=&MaxItems=      ListFunctions
//	GET /2015-03-31/functions/{name}/configuration    GetFunctionConfiguration
//	GET /2017-03-31/tags/{arn}                        ListTags
//
// Errors carry their code in the X-Amzn-ErrorType header and a body
// {"Type":"User","Message":…}.

const (
	lambdaService = "lambda"
	// lambdaPageMax is the most functions ListFunctions returns at once,
	// whatever MaxItems says.
	lambdaPageMax    = 50
	lambdaMaxItems   = 10000
	lambdaLatest     = "$LATEST"
	lambdaTimeLayout = "2006-01-02T15:04:05.000-0700"
)

func newLambdaService(s *Server) *lambdaSim { return &lambdaSim{s: s} }

type lambdaSim struct{ s *Server }

// serviceAuthCodes are the codes Lambda and DynamoDB (services answering
// in JSON, unlike STS's and EC2's Query errors) give authentication and
// authorization failures.
var serviceAuthCodes = map[string]string{
	"AccessDenied":               "AccessDeniedException",
	"InvalidClientTokenId":       "UnrecognizedClientException",
	"SignatureDoesNotMatch":      "InvalidSignatureException",
	"MissingAuthenticationToken": "MissingAuthenticationTokenException",
	"IncompleteSignature":        "IncompleteSignatureException",
	"ExpiredToken":               "ExpiredTokenException",
}

// renamedError returns e with its code translated by codes (e itself when
// codes has no entry).
func renamedError(e *apiError, codes map[string]string) *apiError {
	if e == nil {
		return nil
	}
	if c, ok := codes[e.code]; ok {
		r := *e
		r.code = c
		return &r
	}
	return e
}

type lambdaErrorBody struct {
	Type    string `json:"Type"`
	Message string `json:"Message"`
}

func (sv *lambdaSim) writeError(w http.ResponseWriter, e *apiError, requestID string) {
	e = renamedError(e, serviceAuthCodes)
	typ := "User"
	if e.status >= 500 {
		typ = "Service"
	}
	w.Header().Set("X-Amzn-ErrorType", e.code)
	writeJSONResponse(w, e.status, "application/json", lambdaErrorBody{Type: typ, Message: e.message}, requestID, false)
}

func (sv *lambdaSim) serve(w http.ResponseWriter, r *http.Request, req *request) {
	var segs []string
	for _, s := range strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/") {
		u, err := url.PathUnescape(s)
		if err != nil {
			u = s
		}
		segs = append(segs, u)
	}
	if n := len(segs); n > 1 && segs[n-1] == "" { // trailing slash
		segs = segs[:n-1]
	}
	query := r.URL.Query()
	var action string
	var h func() (any, *apiError)
	switch {
	case len(segs) == 2 && segs[0] == "2015-03-31" && segs[1] == "functions":
		action, h = "ListFunctions", func() (any, *apiError) { return sv.listFunctions(query, req) }
	case len(segs) == 4 && segs[0] == "2015-03-31" && segs[1] == "functions" && segs[3] == "configuration":
		action, h = "GetFunctionConfiguration", func() (any, *apiError) { return sv.getFunctionConfiguration(segs[2], query, req) }
	case len(segs) == 3 && segs[0] == "2017-03-31" && segs[1] == "tags":
		action, h = "ListTags", func() (any, *apiError) { return sv.listTags(segs[2], req) }
	}
	if action != "" && r.Method != http.MethodGet {
		h = nil
	}
	if action == "" {
		action = r.Method + " " + r.URL.Path
	}
	out, aerr := sv.s.performCall(req, action, func() (any, *apiError) {
		if h == nil {
			return nil, errorf(http.StatusNotFound, "UnknownOperationException", "No operation matches %s %s", r.Method, r.URL.Path)
		}
		out, aerr := h()
		return out, renamedError(aerr, serviceAuthCodes)
	})
	if aerr != nil {
		sv.writeError(w, aerr, req.id)
		return
	}
	writeJSONResponse(w, http.StatusOK, "application/json", out, req.id, false)
}

func lambdaInvalidParameter(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "InvalidParameterValueException", format, args...)
}

// ---- wire shapes ----

type lambdaFunctionConfig struct {
	FunctionName     string                 `json:"FunctionName"`
	FunctionArn      string                 `json:"FunctionArn"`
	Runtime          string                 `json:"Runtime,omitempty"`
	Role             string                 `json:"Role"`
	Handler          string                 `json:"Handler,omitempty"`
	CodeSize         int64                  `json:"CodeSize"`
	Description      string                 `json:"Description"`
	Timeout          int32                  `json:"Timeout"`
	MemorySize       int32                  `json:"MemorySize"`
	LastModified     string                 `json:"LastModified"`
	CodeSha256       string                 `json:"CodeSha256"`
	Version          string                 `json:"Version"`
	TracingConfig    lambdaTracingConfig    `json:"TracingConfig"`
	RevisionID       string                 `json:"RevisionId"`
	State            string                 `json:"State"`
	LastUpdateStatus string                 `json:"LastUpdateStatus"`
	PackageType      string                 `json:"PackageType"`
	Architectures    []string               `json:"Architectures"`
	EphemeralStorage lambdaEphemeralStorage `json:"EphemeralStorage"`
	DeadLetterConfig *lambdaDeadLetter      `json:"DeadLetterConfig,omitempty"`
	LoggingConfig    lambdaLoggingConfig    `json:"LoggingConfig"`
}

type lambdaDeadLetter struct {
	TargetArn string `json:"TargetArn"`
}

type lambdaTracingConfig struct {
	Mode string `json:"Mode"`
}

type lambdaEphemeralStorage struct {
	Size int32 `json:"Size"`
}

type lambdaLoggingConfig struct {
	LogFormat string `json:"LogFormat"`
	LogGroup  string `json:"LogGroup"`
}

type lambdaListFunctionsOutput struct {
	Functions  []lambdaFunctionConfig `json:"Functions"`
	NextMarker *string                `json:"NextMarker,omitempty"`
}

type lambdaListTagsOutput struct {
	Tags map[string]string `json:"Tags"`
}

// lambdaHandler is the usual handler of a runtime's functions.
func lambdaHandler(runtime string) string {
	switch r := strings.ToLower(runtime); {
	case strings.HasPrefix(r, "python"), strings.HasPrefix(r, "ruby"):
		return "lambda_function.lambda_handler"
	case strings.HasPrefix(r, "java"):
		return "example.Handler::handleRequest"
	case strings.HasPrefix(r, "dotnet"):
		return "Function::Function.Function::FunctionHandler"
	case strings.HasPrefix(r, "provided"), strings.HasPrefix(r, "go"):
		return "bootstrap"
	}
	return "index.handler"
}

// lambdaConfig renders a function as ListFunctions and
// GetFunctionConfiguration report it. A function without a runtime is a
// container image function.
func lambdaConfig(region, account string, f *LambdaFunction) lambdaFunctionConfig {
	mem, timeout := f.MemorySize, f.Timeout
	if mem == 0 {
		mem = 128
	}
	if timeout == 0 {
		timeout = 3
	}
	sha := identityDigest("lambda-code", account, region, f.Name)
	c := lambdaFunctionConfig{
		FunctionName:     f.Name,
		FunctionArn:      lambdaARN(region, account, f.Name),
		Runtime:          f.Runtime,
		Role:             "arn:aws:iam::" + account + ":role/service-role/" + f.Name + "-role",
		CodeSize:         1024 + int64(sha[0])<<8 + int64(sha[1]),
		Timeout:          timeout,
		MemorySize:       mem,
		LastModified:     digestTime("lambda", account, region, f.Name).Format(lambdaTimeLayout),
		CodeSha256:       base64.StdEncoding.EncodeToString(sha[:]),
		Version:          lambdaLatest,
		TracingConfig:    lambdaTracingConfig{Mode: "PassThrough"},
		RevisionID:       digestUUID("lambda-revision", account, region, f.Name, f.Runtime, strconv.Itoa(int(mem)), strconv.Itoa(int(timeout))),
		State:            "Active",
		LastUpdateStatus: "Successful",
		PackageType:      "Zip",
		Architectures:    []string{"x86_64"},
		EphemeralStorage: lambdaEphemeralStorage{Size: 512},
		LoggingConfig:    lambdaLoggingConfig{LogFormat: "Text", LogGroup: "/aws/lambda/" + f.Name},
	}
	for _, ft := range f.Features {
		if ft == "dlq" {
			c.DeadLetterConfig = &lambdaDeadLetter{TargetArn: queueARN(region, account, f.Name+"-dlq")}
		}
	}
	if f.Runtime == "" {
		c.PackageType = "Image"
	} else {
		c.Handler = lambdaHandler(f.Runtime)
	}
	return c
}

func findLambda(rd *Region, name string) *LambdaFunction {
	for i := range rd.LambdaFunctions {
		if rd.LambdaFunctions[i].Name == name {
			return &rd.LambdaFunctions[i]
		}
	}
	return nil
}

// ---- actions ----

func (sv *lambdaSim) listFunctions(query url.Values, req *request) (any, *apiError) {
	if e := sv.s.authorize(req, "lambda:ListFunctions", "*"); e != nil {
		return nil, e
	}
	pageSize := lambdaPageMax
	if v := query.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > lambdaMaxItems {
			return nil, lambdaInvalidParameter("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and %d", v, lambdaMaxItems)
		}
		pageSize = min(n, lambdaPageMax)
	}
	var after string
	if v := query.Get("Marker"); v != "" {
		a, ok := parseResumeToken("lambda", v)
		if !ok {
			return nil, lambdaInvalidParameter("Invalid Marker: %s", v)
		}
		after = a
	}
	switch v := query.Get("FunctionVersion"); v {
	case "", "ALL": // only $LATEST versions are simulated
	default:
		return nil, lambdaInvalidParameter("1 validation error detected: Value '%s' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]", v)
	}
	region, account := req.region, req.principal.AccountID
	out := lambdaListFunctionsOutput{Functions: []lambdaFunctionConfig{}}
	sv.s.read(func(sc *Scenario) {
		rd := req.regionData(sc)
		var all []*LambdaFunction
		for i := range rd.LambdaFunctions {
			all = append(all, &rd.LambdaFunctions[i])
		}
		page, more := pageAfter(all, func(f *LambdaFunction) string { return f.Name }, after, pageSize)
		for _, f := range page {
			out.Functions = append(out.Functions, lambdaConfig(region, account, f))
		}
		if more {
			m := resumeToken("lambda", page[len(page)-1].Name)
			out.NextMarker = &m
		}
	})
	return out, nil
}

// lambdaFunctionRef resolves the function references Lambda accepts (a
// name, name:qualifier, account:function:name[:qualifier], or a full ARN)
// to a name and qualifier. ok is false when the reference is malformed;
// foreign is true when it names another account or region.
func lambdaFunctionRef(ref, region, account string) (name, qualifier string, foreign, ok bool) {
	parts := strings.Split(ref, ":")
	var rest []string
	switch n := len(parts); {
	case n <= 2:
		name, rest = parts[0], parts[1:]
	case (n == 3 || n == 4) && parts[1] == "function":
		name, rest, foreign = parts[2], parts[3:], parts[0] != account
	case (n == 7 || n == 8) && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function":
		name, rest, foreign = parts[6], parts[7:], parts[3] != region || parts[4] != account
	default:
		return "", "", false, false
	}
	if len(rest) == 1 {
		if rest[0] == "" {
			return "", "", false, false
		}
		qualifier = rest[0]
	}
	return name, qualifier, foreign, name != ""
}

func (sv *lambdaSim) getFunctionConfiguration(ref string, query url.Values, req *request) (any, *apiError) {
	region, account := req.region, req.principal.AccountID
	name, qualifier, foreign, ok := lambdaFunctionRef(ref, region, account)
	if !ok {
		return nil, lambdaInvalidParameter("1 validation error detected: Value '%s' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern", ref)
	}
	if q := query.Get("Qualifier"); q != "" {
		if qualifier != "" && qualifier != q {
			return nil, lambdaInvalidParameter("The derived qualifier from the function name does not match the specified qualifier.")
		}
		qualifier = q
	}
	arn := lambdaARN(region, account, name)
	if foreign {
		arn = ref
	}
	resource := arn
	if qualifier != "" && !foreign {
		resource = arn + ":" + qualifier
	}
	// lambda:GetFunctionConfiguration is authorized on the function's ARN.
	if e := sv.s.authorize(req, "lambda:GetFunctionConfiguration", resource); e != nil {
		return nil, e
	}
	var out lambdaFunctionConfig
	var found bool
	sv.s.read(func(sc *Scenario) {
		if foreign || (qualifier != "" && qualifier != lambdaLatest) {
			return
		}
		if f := findLambda(req.regionData(sc), name); f != nil {
			out, found = lambdaConfig(region, account, f), true
		}
	})
	if !found {
		return nil, errorf(http.StatusNotFound, "ResourceNotFoundException", "Function not found: %s", resource)
	}
	return out, nil
}

func (sv *lambdaSim) listTags(arn string, req *request) (any, *apiError) {
	// lambda:ListTags is authorized on the function's ARN.
	if e := sv.s.authorize(req, "lambda:ListTags", arn); e != nil {
		return nil, e
	}
	region, account := req.region, req.principal.AccountID
	parts := strings.Split(arn, ":")
	if len(parts) < 7 || parts[0] != "arn" || parts[2] != "lambda" || parts[5] != "function" {
		return nil, lambdaInvalidParameter("1 validation error detected: Value '%s' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z0-9-]+:\\d{12}:function:[a-zA-Z0-9-_]+", arn)
	}
	if len(parts) != 7 {
		return nil, lambdaInvalidParameter("Tags on function aliases and versions are not supported. Please specify a function ARN.")
	}
	out := lambdaListTagsOutput{Tags: map[string]string{}}
	var found bool
	sv.s.read(func(sc *Scenario) {
		if parts[3] != region || parts[4] != account {
			return
		}
		if f := findLambda(req.regionData(sc), parts[6]); f != nil {
			found = true
			for k, v := range f.Tags {
				out.Tags[k] = v
			}
		}
	})
	if !found {
		return nil, errorf(http.StatusNotFound, "ResourceNotFoundException", "Function not found: %s", arn)
	}
	return out, nil
}
