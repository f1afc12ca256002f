package awssim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"sort"
	"strings"
)

// The Resource Groups Tagging API (signing name tagging) speaks awsJson1_1:
// POST / with X-Amz-Target: ResourceGroupsTaggingAPI_20170126.<Op> and a
// JSON body; errors are {"__type": code, "Message": text} with the
// X-Amzn-ErrorType header. Only GetResources is simulated.

const (
	taggingSigningName  = "tagging"
	taggingTargetPrefix = "ResourceGroupsTaggingAPI_20170126."
	taggingContentType  = "application/x-amz-json-1.1"
	taggingMaxPerPage   = 100
)

func newTaggingService(s *Server) *taggingService { return &taggingService{s: s} }

type taggingService struct{ s *Server }

func (sv *taggingService) writeError(w http.ResponseWriter, e *apiError, requestID string) {
	e = taggingAuthError(e)
	b, _ := json.Marshal(map[string]string{"__type": e.code, "Message": e.message})
	setDate(w, sv.s.authNow())
	w.Header().Set("Content-Type", taggingContentType)
	w.Header().Set("X-Amzn-ErrorType", e.code)
	w.Header().Set("x-amzn-RequestId", requestID)
	w.WriteHeader(e.status)
	_, _ = w.Write(b)
}

// taggingAuthError renames errors to the JSON services' codes: access
// denial is 400 AccessDeniedException, unknown keys
// UnrecognizedClientException.
func taggingAuthError(e *apiError) *apiError {
	switch e.code {
	case "AccessDenied":
		return &apiError{status: http.StatusBadRequest, code: "AccessDeniedException", message: e.message}
	case "InvalidClientTokenId":
		return &apiError{status: http.StatusBadRequest, code: "UnrecognizedClientException", message: e.message}
	case "SignatureDoesNotMatch":
		return &apiError{status: http.StatusBadRequest, code: "InvalidSignatureException", message: e.message}
	case "ExpiredToken":
		return &apiError{status: http.StatusBadRequest, code: "ExpiredTokenException", message: e.message}
	}
	return e
}

func (sv *taggingService) serve(w http.ResponseWriter, r *http.Request, req *request) {
	target := r.Header.Get("X-Amz-Target")
	action, ok := strings.CutPrefix(target, taggingTargetPrefix)
	var aerr *apiError
	switch {
	case r.Method != http.MethodPost:
		aerr = errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "Method %s is not allowed; use POST", r.Method)
	case !ok || action == "":
		aerr = errorf(http.StatusBadRequest, "UnknownOperationException", "Unknown operation %s", target)
	default:
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != taggingContentType {
			aerr = errorf(http.StatusBadRequest, "SerializationException", "Content-Type must be %s", taggingContentType)
		}
	}
	if aerr == nil {
		if f := sv.s.takeFailure(taggingSigningName, action); f != nil {
			aerr = f
		}
	}
	var out any
	if aerr == nil {
		switch action {
		case "GetResources":
			out, aerr = sv.getResources(req)
		default:
			aerr = errorf(http.StatusBadRequest, "UnknownOperationException", "Unknown operation %s", target)
		}
	}
	if aerr != nil {
		aerr = taggingAuthError(aerr)
		sv.s.record(req, action, aerr, nil)
		sv.writeError(w, aerr, req.id)
		return
	}
	sv.s.record(req, action, nil, nil)
	b, err := json.Marshal(out)
	if err != nil {
		sv.writeError(w, errorf(http.StatusInternalServerError, "InternalServiceException", "awssim: %v", err), req.id)
		return
	}
	setDate(w, sv.s.authNow())
	w.Header().Set("Content-Type", taggingContentType)
	w.Header().Set("x-amzn-RequestId", req.id)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

type taggingTagFilter struct {
	Key    string   `json:"Key"`
	Values []string `json:"Values"`
}

type taggingGetResourcesInput struct {
	PaginationToken     string             `json:"PaginationToken"`
	ResourceARNList     []string           `json:"ResourceARNList"`
	ResourceTypeFilters []string           `json:"ResourceTypeFilters"`
	ResourcesPerPage    *int               `json:"ResourcesPerPage"`
	TagFilters          []taggingTagFilter `json:"TagFilters"`
	TagsPerPage         *int               `json:"TagsPerPage"`
}

type taggingTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type taggingMapping struct {
	ResourceARN string       `json:"ResourceARN"`
	Tags        []taggingTag `json:"Tags"`
}

type taggingGetResourcesOutput struct {
	PaginationToken        string           `json:"PaginationToken"`
	ResourceTagMappingList []taggingMapping `json:"ResourceTagMappingList"`
}

func taggingInvalid(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "InvalidParameterException", format, args...)
}

func (sv *taggingService) getResources(req *request) (any, *apiError) {
	if err := sv.s.authorize(req, "tag:GetResources", "*"); err != nil {
		return nil, err
	}
	var in taggingGetResourcesInput
	if len(bytes.TrimSpace(req.body)) > 0 {
		if err := json.Unmarshal(req.body, &in); err != nil {
			return nil, errorf(http.StatusBadRequest, "SerializationException", "Could not parse the request body: %v", err)
		}
	}
	perPage := taggingMaxPerPage
	if in.ResourcesPerPage != nil {
		if *in.ResourcesPerPage < 1 || *in.ResourcesPerPage > taggingMaxPerPage {
			return nil, taggingInvalid("ResourcesPerPage must be between 1 and %d", taggingMaxPerPage)
		}
		perPage = *in.ResourcesPerPage
	}
	if in.TagsPerPage != nil && (*in.TagsPerPage < 100 || *in.TagsPerPage > 500) {
		return nil, taggingInvalid("TagsPerPage must be between 100 and 500")
	}
	if len(in.ResourceARNList) > 0 && (len(in.TagFilters) > 0 || len(in.ResourceTypeFilters) > 0) {
		return nil, taggingInvalid("ResourceARNList cannot be used with TagFilters or ResourceTypeFilters")
	}
	if len(in.TagFilters) > 50 {
		return nil, taggingInvalid("TagFilters may have at most 50 entries")
	}
	for _, f := range in.TagFilters {
		if f.Key == "" {
			return nil, taggingInvalid("A TagFilter needs a Key")
		}
		if len(f.Values) > 20 {
			return nil, taggingInvalid("A TagFilter may have at most 20 Values")
		}
	}
	for _, t := range in.ResourceTypeFilters {
		if t == "" || strings.Count(t, ":") > 1 {
			return nil, taggingInvalid("Unsupported resource type %q in ResourceTypeFilters", t)
		}
	}
	after := ""
	if in.PaginationToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.PaginationToken)
		if err != nil || !strings.HasPrefix(string(b), "after:") {
			return nil, taggingInvalid("The PaginationToken is not valid")
		}
		after = strings.TrimPrefix(string(b), "after:")
	}
	var resources []MetricResource
	sv.s.read(func(sc *Scenario) {
		if a := req.account(sc); a != nil {
			resources = regionResources(req.region, a.ID, req.regionData(sc))
		}
	})
	sort.Slice(resources, func(i, j int) bool { return resources[i].ARN < resources[j].ARN })
	wantARN := map[string]bool{}
	for _, a := range in.ResourceARNList {
		wantARN[a] = true
	}
	out := &taggingGetResourcesOutput{ResourceTagMappingList: []taggingMapping{}}
	for _, r := range resources {
		if len(r.Tags) == 0 || r.Service == "" || (after != "" && r.ARN <= after) {
			continue
		}
		if len(wantARN) > 0 && !wantARN[r.ARN] {
			continue
		}
		if !taggingTypeMatches(r, in.ResourceTypeFilters) || !taggingTagsMatch(r.Tags, in.TagFilters) {
			continue
		}
		if len(out.ResourceTagMappingList) == perPage {
			last := out.ResourceTagMappingList[perPage-1].ResourceARN
			out.PaginationToken = base64.RawURLEncoding.EncodeToString([]byte("after:" + last))
			break
		}
		m := taggingMapping{ResourceARN: r.ARN, Tags: []taggingTag{}}
		keys := make([]string, 0, len(r.Tags))
		for k := range r.Tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			m.Tags = append(m.Tags, taggingTag{Key: k, Value: r.Tags[k]})
		}
		out.ResourceTagMappingList = append(out.ResourceTagMappingList, m)
	}
	return out, nil
}

// taggingTypeMatches reports whether r matches any ResourceTypeFilter
// ("service" or "service:type"; none: everything).
func taggingTypeMatches(r MetricResource, filters []string) bool {
	if len(filters) == 0 {
		return true
	}
	for _, f := range filters {
		svc, typ, hasType := strings.Cut(f, ":")
		if svc != r.Service {
			continue
		}
		if !hasType || typ == r.ResourceType || (r.Service == "sqs" && typ == "queue") {
			return true
		}
	}
	return false
}

// taggingTagsMatch applies TagFilters: every filter (AND) must find its key
// with one of its values (OR), or just the key when it lists no values.
func taggingTagsMatch(tags Tags, filters []taggingTagFilter) bool {
	for _, f := range filters {
		v, ok := tags[f.Key]
		if !ok {
			return false
		}
		if len(f.Values) == 0 {
			continue
		}
		found := false
		for _, want := range f.Values {
			if want == v {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
