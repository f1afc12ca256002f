package awssim

import (
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Amazon SQS in its JSON protocol (awsJson1_0, X-Amz-Target
// AmazonSQS.<Operation>), which the current SDKs speak: ListQueues,
// GetQueueAttributes and ListQueueTags.
//
// SQS is "query compatible": an error carries its JSON shape id in __type
// and, in the x-amzn-query-error header, the code the Query API used
// ("AWS.SimpleQueueService.NonExistentQueue;Sender"). The SDK reports the
// header's code as the error code (types.QueueDoesNotExist.ErrorCode()
// is then AWS.SimpleQueueService.NonExistentQueue), so apiError codes here
// are the Query codes, and the call log records those.

const (
	sqsService        = "sqs"
	sqsTargetPrefix   = "AmazonSQS"
	sqsMaxListResults = 1000
	// sqsNonExistentQueue is the (Query-compatible) code of
	// QueueDoesNotExist.
	sqsNonExistentQueue = "AWS.SimpleQueueService.NonExistentQueue"
	// sqsQueryXMLNS is the namespace of SQS's Query-protocol responses.
	sqsQueryXMLNS = "http://queue.amazonaws.com/doc/2012-11-05/"
)

func newSQSService(s *Server) *sqsSim { return &sqsSim{s: s} }

type sqsSim struct{ s *Server }

// sqsErrorShapes maps Query error codes to the JSON shape ids SQS sends
// in __type. Codes not listed become com.amazonaws.sqs#<code>.
var sqsErrorShapes = map[string]string{
	sqsNonExistentQueue:                           "com.amazonaws.sqs#QueueDoesNotExist",
	"AccessDenied":                                "com.amazon.coral.service#AccessDeniedException",
	"InvalidClientTokenId":                        "com.amazon.coral.service#InvalidClientTokenId",
	"SignatureDoesNotMatch":                       "com.amazon.coral.service#SignatureDoesNotMatch",
	"MissingAuthenticationToken":                  "com.amazon.coral.service#MissingAuthenticationToken",
	"IncompleteSignature":                         "com.amazon.coral.service#IncompleteSignature",
	"ExpiredToken":                                "com.amazon.coral.service#ExpiredToken",
	"UnknownOperationException":                   "com.amazon.coral.service#UnknownOperationException",
	"SerializationException":                      "com.amazon.coral.service#SerializationException",
	"AWS.SimpleQueueService.UnsupportedOperation": "com.amazonaws.sqs#UnsupportedOperation",
}

func (sv *sqsSim) writeError(w http.ResponseWriter, e *apiError, requestID string) {
	shape, ok := sqsErrorShapes[e.code]
	if !ok {
		name := e.code
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			name = name[i+1:]
		}
		shape = "com.amazonaws.sqs#" + name
	}
	fault := "Sender"
	if e.status >= 500 {
		fault = "Receiver"
	}
	w.Header().Set("x-amzn-query-error", e.code+";"+fault)
	writeAWSJSONError(w, e.status, shape, e.message, requestID, false)
}

type sqsListQueuesInput struct {
	QueueNamePrefix *string `json:"QueueNamePrefix"`
	MaxResults      *int32  `json:"MaxResults"`
	NextToken       *string `json:"NextToken"`
}

type sqsListQueuesOutput struct {
	QueueUrls []string `json:"QueueUrls,omitempty"`
	NextToken string   `json:"NextToken,omitempty"`
}

type sqsGetQueueAttributesInput struct {
	QueueURL       *string  `json:"QueueUrl"`
	AttributeNames []string `json:"AttributeNames"`
}

type sqsGetQueueAttributesOutput struct {
	Attributes map[string]string `json:"Attributes,omitempty"`
}

type sqsListQueueTagsInput struct {
	QueueURL *string `json:"QueueUrl"`
}

type sqsListQueueTagsOutput struct {
	Tags map[string]string `json:"Tags,omitempty"`
}

func (sv *sqsSim) serve(w http.ResponseWriter, r *http.Request, req *request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		// A client of SQS's older Query protocol: tell it in its format.
		params, _ := queryParams(r, req.body)
		action := params.Get("Action")
		_, aerr := sv.s.performCall(req, action, func() (any, *apiError) {
			return nil, errorf(http.StatusBadRequest, "InvalidAction",
				"awssim simulates SQS's JSON protocol (X-Amz-Target AmazonSQS.<Action>) only, not the Query action %q", action)
		})
		writeQueryError(w, sqsQueryXMLNS, aerr, req.id)
		return
	}
	op, aerr := awsJSONOperation(r, sqsTargetPrefix)
	out, aerr := sv.s.performCall(req, op, func() (any, *apiError) {
		if aerr != nil {
			return nil, aerr
		}
		switch op {
		case "ListQueues":
			var in sqsListQueuesInput
			if aerr := decodeJSONInput(req.body, &in); aerr != nil {
				return nil, aerr
			}
			return sv.listQueues(&in, req)
		case "GetQueueAttributes":
			var in sqsGetQueueAttributesInput
			if aerr := decodeJSONInput(req.body, &in); aerr != nil {
				return nil, aerr
			}
			return sv.getQueueAttributes(&in, req)
		case "ListQueueTags":
			var in sqsListQueueTagsInput
			if aerr := decodeJSONInput(req.body, &in); aerr != nil {
				return nil, aerr
			}
			return sv.listQueueTags(&in, req)
		}
		return nil, errorf(http.StatusBadRequest, "AWS.SimpleQueueService.UnsupportedOperation", "The operation %s is not supported by awssim", op)
	})
	if aerr != nil {
		sv.writeError(w, aerr, req.id)
		return
	}
	writeJSONResponse(w, http.StatusOK, awsJSON10, out, req.id, false)
}

// sqsQueueURL is a queue's URL as SQS's JSON API returns it.
func sqsQueueURL(region, account, name string) string {
	return "https://sqs." + region + ".amazonaws.com/" + account + "/" + name
}

func findQueue(rd *Region, name string) *Queue {
	for i := range rd.Queues {
		if rd.Queues[i].Name == name {
			return &rd.Queues[i]
		}
	}
	return nil
}

func (sv *sqsSim) listQueues(in *sqsListQueuesInput, req *request) (any, *apiError) {
	if e := sv.s.authorize(req, "sqs:ListQueues", "*"); e != nil {
		return nil, e
	}
	pageSize := sqsMaxListResults
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > sqsMaxListResults {
			return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "Value %d for parameter MaxResults is invalid. Reason: must be between 1 and %d.", *in.MaxResults, sqsMaxListResults)
		}
		pageSize = int(*in.MaxResults)
	}
	var after string
	if in.NextToken != nil && *in.NextToken != "" {
		a, ok := parseResumeToken("sqs", *in.NextToken)
		if !ok {
			return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "Invalid NextToken value.")
		}
		after = a
	}
	prefix := ""
	if in.QueueNamePrefix != nil {
		prefix = *in.QueueNamePrefix
	}
	region, account := req.region, req.principal.AccountID
	var out sqsListQueuesOutput
	sv.s.read(func(sc *Scenario) {
		rd := req.regionData(sc)
		var names []string
		for _, q := range rd.Queues {
			if strings.HasPrefix(q.Name, prefix) {
				names = append(names, q.Name)
			}
		}
		page, more := pageAfter(names, func(n string) string { return n }, after, pageSize)
		for _, n := range page {
			out.QueueUrls = append(out.QueueUrls, sqsQueueURL(region, account, n))
		}
		// Without MaxResults SQS returns one page of up to 1000 queues and
		// no token.
		if more && in.MaxResults != nil {
			out.NextToken = resumeToken("sqs", page[len(page)-1])
		}
	})
	return out, nil
}

// sqsQueueRef parses a queue URL (any host; the path is /<account>/<name>).
func sqsQueueRef(raw *string) (account, name string, aerr *apiError) {
	if raw == nil || *raw == "" {
		return "", "", errorf(http.StatusBadRequest, "MissingParameter", "The request must contain the parameter QueueUrl.")
	}
	u, err := url.Parse(*raw)
	parts := []string{}
	if err == nil {
		parts = strings.Split(strings.Trim(u.Path, "/"), "/")
	}
	if err != nil || len(parts) != 2 || !validAccountID(parts[0]) || parts[1] == "" {
		return "", "", errorf(http.StatusBadRequest, "InvalidAddress", "The address %s is not valid for this endpoint.", *raw)
	}
	return parts[0], parts[1], nil
}

// sqsQueue finds the queue a URL names among the caller's queues and
// passes it to fn under the scenario's read lock.
func (sv *sqsSim) sqsQueue(req *request, account, name string, fn func(q *Queue)) *apiError {
	found := false
	sv.s.read(func(sc *Scenario) {
		if account != req.principal.AccountID {
			return
		}
		if q := findQueue(req.regionData(sc), name); q != nil {
			found = true
			fn(q)
		}
	})
	if !found {
		return errorf(http.StatusBadRequest, sqsNonExistentQueue, "The specified queue does not exist.")
	}
	return nil
}

// sqsAttributeNames are the attributes GetQueueAttributes knows.
var sqsAttributeNames = map[string]bool{
	"All": true, "Policy": true, "VisibilityTimeout": true, "MaximumMessageSize": true,
	"MessageRetentionPeriod": true, "ApproximateNumberOfMessages": true,
	"ApproximateNumberOfMessagesNotVisible": true, "CreatedTimestamp": true, "LastModifiedTimestamp": true,
	"QueueArn": true, "ApproximateNumberOfMessagesDelayed": true, "DelaySeconds": true,
	"ReceiveMessageWaitTimeSeconds": true, "RedrivePolicy": true, "FifoQueue": true,
	"ContentBasedDeduplication": true, "KmsMasterKeyId": true, "KmsDataKeyReusePeriodSeconds": true,
	"DeduplicationScope": true, "FifoThroughputLimit": true, "RedriveAllowPolicy": true,
	"SqsManagedSseEnabled": true,
}

// sqsAttributes returns all attributes a queue has (those of features the
// simulator does not model, like Policy, are absent as for a queue without
// them).
func sqsAttributes(region, account string, q *Queue) map[string]string {
	created := strconv.FormatInt(digestTime("sqs", account, region, q.Name).Unix(), 10)
	attrs := map[string]string{
		"QueueArn":                              queueARN(region, account, q.Name),
		"ApproximateNumberOfMessages":           "0",
		"ApproximateNumberOfMessagesNotVisible": "0",
		"ApproximateNumberOfMessagesDelayed":    "0",
		"CreatedTimestamp":                      created,
		"LastModifiedTimestamp":                 created,
		"VisibilityTimeout":                     "30",
		"MaximumMessageSize":                    "262144",
		"MessageRetentionPeriod":                "345600",
		"DelaySeconds":                          "0",
		"ReceiveMessageWaitTimeSeconds":         "0",
		"SqsManagedSseEnabled":                  "true",
	}
	if strings.HasSuffix(q.Name, ".fifo") {
		attrs["FifoQueue"] = "true"
		attrs["ContentBasedDeduplication"] = "false"
		attrs["DeduplicationScope"] = "queue"
		attrs["FifoThroughputLimit"] = "perQueue"
	}
	return attrs
}

func (sv *sqsSim) getQueueAttributes(in *sqsGetQueueAttributesInput, req *request) (any, *apiError) {
	account, name, aerr := sqsQueueRef(in.QueueURL)
	if aerr != nil {
		return nil, aerr
	}
	// sqs:GetQueueAttributes is authorized on the queue's ARN.
	if e := sv.s.authorize(req, "sqs:GetQueueAttributes", queueARN(req.region, account, name)); e != nil {
		return nil, e
	}
	for _, a := range in.AttributeNames {
		if !sqsAttributeNames[a] {
			return nil, errorf(http.StatusBadRequest, "InvalidAttributeName", "Unknown Attribute %s.", a)
		}
	}
	var out sqsGetQueueAttributesOutput
	aerr = sv.sqsQueue(req, account, name, func(q *Queue) {
		all := sqsAttributes(req.region, account, q)
		out.Attributes = map[string]string{}
		for _, a := range in.AttributeNames {
			if a == "All" {
				out.Attributes = all
				return
			}
			if v, ok := all[a]; ok {
				out.Attributes[a] = v
			}
		}
	})
	if aerr != nil {
		return nil, aerr
	}
	return out, nil
}

func (sv *sqsSim) listQueueTags(in *sqsListQueueTagsInput, req *request) (any, *apiError) {
	account, name, aerr := sqsQueueRef(in.QueueURL)
	if aerr != nil {
		return nil, aerr
	}
	// sqs:ListQueueTags is authorized on the queue's ARN.
	if e := sv.s.authorize(req, "sqs:ListQueueTags", queueARN(req.region, account, name)); e != nil {
		return nil, e
	}
	var out sqsListQueueTagsOutput
	aerr = sv.sqsQueue(req, account, name, func(q *Queue) {
		if len(q.Tags) > 0 {
			out.Tags = make(map[string]string, len(q.Tags))
			for k, v := range q.Tags {
				out.Tags[k] = v
			}
		}
	})
	if aerr != nil {
		return nil, aerr
	}
	return out, nil
}
