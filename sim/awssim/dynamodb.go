package awssim

import (
	"net/http"
	"strings"
)

// Amazon DynamoDB's control plane (awsJson1_0, X-Amz-Target
// DynamoDB_20120810.<Operation>): ListTables, DescribeTable and
// ListTagsOfResource. Every response carries X-Amz-Crc32, which the SDK
// verifies.

const (
	dynamoDBService      = "dynamodb"
	dynamoDBTargetPrefix = "DynamoDB_20120810"
	dynamoDBMaxLimit     = 100
	// dynamoDBTagsPage is how many tags one ListTagsOfResource returns.
	dynamoDBTagsPage = 10
)

func newDynamoDBService(s *Server) *dynamoDBSim { return &dynamoDBSim{s: s} }

type dynamoDBSim struct{ s *Server }

// dynamoDBCoralErrors are the errors whose shapes live in Coral's common
// namespaces rather than DynamoDB's.
var dynamoDBCoralErrors = map[string]string{
	"AccessDeniedException":               "com.amazon.coral.service#AccessDeniedException",
	"UnrecognizedClientException":         "com.amazon.coral.service#UnrecognizedClientException",
	"InvalidSignatureException":           "com.amazon.coral.service#InvalidSignatureException",
	"MissingAuthenticationTokenException": "com.amazon.coral.service#MissingAuthenticationTokenException",
	"IncompleteSignatureException":        "com.amazon.coral.service#IncompleteSignatureException",
	"ExpiredTokenException":               "com.amazon.coral.service#ExpiredTokenException",
	"UnknownOperationException":           "com.amazon.coral.service#UnknownOperationException",
	"SerializationException":              "com.amazon.coral.service#SerializationException",
	"ValidationException":                 "com.amazon.coral.validate#ValidationException",
}

func (sv *dynamoDBSim) writeError(w http.ResponseWriter, e *apiError, requestID string) {
	e = renamedError(e, serviceAuthCodes)
	status := e.status
	if status == http.StatusForbidden && e.code != "AccessDeniedException" {
		status = http.StatusBadRequest // DynamoDB answers bad credentials with 400
	}
	shape, ok := dynamoDBCoralErrors[e.code]
	if !ok {
		shape = "com.amazonaws.dynamodb.v20120810#" + e.code
	}
	writeAWSJSONError(w, status, shape, e.message, requestID, true)
}

type dynamoDBListTablesInput struct {
	ExclusiveStartTableName *string `json:"ExclusiveStartTableName"`
	Limit                   *int32  `json:"Limit"`
}

type dynamoDBListTablesOutput struct {
	TableNames             []string `json:"TableNames"`
	LastEvaluatedTableName string   `json:"LastEvaluatedTableName,omitempty"`
}

type dynamoDBDescribeTableInput struct {
	TableName *string `json:"TableName"`
}

type dynamoDBDescribeTableOutput struct {
	Table dynamoDBTable `json:"Table"`
}

type dynamoDBListTagsInput struct {
	ResourceArn *string `json:"ResourceArn"`
	NextToken   *string `json:"NextToken"`
}

type dynamoDBTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type dynamoDBListTagsOutput struct {
	Tags      []dynamoDBTag `json:"Tags"`
	NextToken string        `json:"NextToken,omitempty"`
}

type dynamoDBAttributeDefinition struct {
	AttributeName string `json:"AttributeName"`
	AttributeType string `json:"AttributeType"`
}

type dynamoDBKeySchemaElement struct {
	AttributeName string `json:"AttributeName"`
	KeyType       string `json:"KeyType"`
}

type dynamoDBThroughput struct {
	NumberOfDecreasesToday int64 `json:"NumberOfDecreasesToday"`
	ReadCapacityUnits      int64 `json:"ReadCapacityUnits"`
	WriteCapacityUnits     int64 `json:"WriteCapacityUnits"`
}

type dynamoDBBillingModeSummary struct {
	BillingMode                       string `json:"BillingMode"`
	LastUpdateToPayPerRequestDateTime any    `json:"LastUpdateToPayPerRequestDateTime"`
}

type dynamoDBTable struct {
	AttributeDefinitions      []dynamoDBAttributeDefinition `json:"AttributeDefinitions"`
	KeySchema                 []dynamoDBKeySchemaElement    `json:"KeySchema"`
	TableName                 string                        `json:"TableName"`
	TableArn                  string                        `json:"TableArn"`
	TableID                   string                        `json:"TableId"`
	TableStatus               string                        `json:"TableStatus"`
	CreationDateTime          any                           `json:"CreationDateTime"`
	ItemCount                 int64                         `json:"ItemCount"`
	TableSizeBytes            int64                         `json:"TableSizeBytes"`
	ProvisionedThroughput     dynamoDBThroughput            `json:"ProvisionedThroughput"`
	BillingModeSummary        dynamoDBBillingModeSummary    `json:"BillingModeSummary"`
	DeletionProtectionEnabled bool                          `json:"DeletionProtectionEnabled"`
}

func (sv *dynamoDBSim) serve(w http.ResponseWriter, r *http.Request, req *request) {
	op, aerr := awsJSONOperation(r, dynamoDBTargetPrefix)
	out, aerr := sv.s.performCall(req, op, func() (any, *apiError) {
		if aerr != nil {
			return nil, aerr
		}
		var out any
		switch op {
		case "ListTables":
			var in dynamoDBListTablesInput
			if aerr = decodeJSONInput(req.body, &in); aerr == nil {
				out, aerr = sv.listTables(&in, req)
			}
		case "DescribeTable":
			var in dynamoDBDescribeTableInput
			if aerr = decodeJSONInput(req.body, &in); aerr == nil {
				out, aerr = sv.describeTable(&in, req)
			}
		case "ListTagsOfResource":
			var in dynamoDBListTagsInput
			if aerr = decodeJSONInput(req.body, &in); aerr == nil {
				out, aerr = sv.listTagsOfResource(&in, req)
			}
		default:
			aerr = errorf(http.StatusBadRequest, "UnknownOperationException", "The operation %s is not simulated by awssim", op)
		}
		// Log the code the client sees.
		return out, renamedError(aerr, serviceAuthCodes)
	})
	if aerr != nil {
		sv.writeError(w, aerr, req.id)
		return
	}
	writeJSONResponse(w, http.StatusOK, awsJSON10, out, req.id, true)
}

func dynamoDBValidation(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "ValidationException", format, args...)
}

func findTable(rd *Region, name string) *Table {
	for i := range rd.Tables {
		if rd.Tables[i].Name == name {
			return &rd.Tables[i]
		}
	}
	return nil
}

func (sv *dynamoDBSim) listTables(in *dynamoDBListTablesInput, req *request) (any, *apiError) {
	if e := sv.s.authorize(req, "dynamodb:ListTables", "*"); e != nil {
		return nil, e
	}
	limit := dynamoDBMaxLimit
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > dynamoDBMaxLimit {
			return nil, dynamoDBValidation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and %d", *in.Limit, dynamoDBMaxLimit)
		}
		limit = int(*in.Limit)
	}
	after := ""
	if in.ExclusiveStartTableName != nil {
		after = *in.ExclusiveStartTableName
	}
	out := dynamoDBListTablesOutput{TableNames: []string{}}
	sv.s.read(func(sc *Scenario) {
		var names []string
		for _, t := range req.regionData(sc).Tables {
			names = append(names, t.Name)
		}
		page, more := pageAfter(names, func(n string) string { return n }, after, limit)
		out.TableNames = append(out.TableNames, page...)
		if more {
			out.LastEvaluatedTableName = page[len(page)-1]
		}
	})
	return out, nil
}

// dynamoDBTableRef accepts a table name or ARN and returns the name.
func dynamoDBTableRef(ref *string, region, account string) (name string, aerr *apiError) {
	if ref == nil || *ref == "" {
		return "", dynamoDBValidation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	}
	if !strings.HasPrefix(*ref, "arn:") {
		return *ref, nil
	}
	prefix := "arn:aws:dynamodb:" + region + ":" + account + ":table/"
	n, ok := strings.CutPrefix(*ref, prefix)
	if !ok || n == "" || strings.Contains(n, "/") {
		return "", dynamoDBValidation("Invalid TableArn: %s", *ref)
	}
	return n, nil
}

func dynamoDBDescription(region, account string, t *Table) dynamoDBTable {
	status := t.Status
	if status == "" {
		status = "ACTIVE"
	}
	created := digestTime("dynamodb", account, region, t.Name)
	return dynamoDBTable{
		AttributeDefinitions:  []dynamoDBAttributeDefinition{{AttributeName: "id", AttributeType: "S"}},
		KeySchema:             []dynamoDBKeySchemaElement{{AttributeName: "id", KeyType: "HASH"}},
		TableName:             t.Name,
		TableArn:              tableARN(region, account, t.Name),
		TableID:               digestUUID("dynamodb-table", account, region, t.Name),
		TableStatus:           status,
		CreationDateTime:      epochSeconds(created),
		ProvisionedThroughput: dynamoDBThroughput{},
		BillingModeSummary: dynamoDBBillingModeSummary{
			BillingMode:                       "PAY_PER_REQUEST",
			LastUpdateToPayPerRequestDateTime: epochSeconds(created),
		},
	}
}

func (sv *dynamoDBSim) describeTable(in *dynamoDBDescribeTableInput, req *request) (any, *apiError) {
	region, account := req.region, req.principal.AccountID
	name, aerr := dynamoDBTableRef(in.TableName, region, account)
	if aerr != nil {
		return nil, aerr
	}
	// dynamodb:DescribeTable is authorized on the table's ARN.
	if e := sv.s.authorize(req, "dynamodb:DescribeTable", tableARN(region, account, name)); e != nil {
		return nil, e
	}
	var out dynamoDBDescribeTableOutput
	found := false
	sv.s.read(func(sc *Scenario) {
		if t := findTable(req.regionData(sc), name); t != nil {
			out.Table, found = dynamoDBDescription(region, account, t), true
		}
	})
	if !found {
		return nil, errorf(http.StatusBadRequest, "ResourceNotFoundException", "Requested resource not found: Table: %s not found", name)
	}
	return out, nil
}

func (sv *dynamoDBSim) listTagsOfResource(in *dynamoDBListTagsInput, req *request) (any, *apiError) {
	if in.ResourceArn == nil || *in.ResourceArn == "" {
		return nil, dynamoDBValidation("1 validation error detected: Value null at 'resourceArn' failed to satisfy constraint: Member must not be null")
	}
	arn := *in.ResourceArn
	region, account := req.region, req.principal.AccountID
	// dynamodb:ListTagsOfResource is authorized on the resource's ARN.
	if e := sv.s.authorize(req, "dynamodb:ListTagsOfResource", arn); e != nil {
		return nil, e
	}
	if !strings.HasPrefix(arn, "arn:aws:dynamodb:") {
		return nil, dynamoDBValidation("Invalid TableArn: %s", arn)
	}
	after := ""
	if in.NextToken != nil && *in.NextToken != "" {
		a, ok := parseResumeToken("dynamodb-tags", *in.NextToken)
		if !ok {
			return nil, dynamoDBValidation("Invalid NextToken")
		}
		after = a
	}
	out := dynamoDBListTagsOutput{Tags: []dynamoDBTag{}}
	found := false
	sv.s.read(func(sc *Scenario) {
		name, ok := strings.CutPrefix(arn, "arn:aws:dynamodb:"+region+":"+account+":table/")
		if !ok {
			return
		}
		t := findTable(req.regionData(sc), name)
		if t == nil {
			return
		}
		found = true
		page, more := pageAfter(tagKeysSorted(t.Tags), func(k string) string { return k }, after, dynamoDBTagsPage)
		for _, k := range page {
			out.Tags = append(out.Tags, dynamoDBTag{Key: k, Value: t.Tags[k]})
		}
		if more {
			out.NextToken = resumeToken("dynamodb-tags", page[len(page)-1])
		}
	})
	if !found {
		return nil, errorf(http.StatusBadRequest, "ResourceNotFoundException", "Requested resource not found: ResourcArn: %s not found", arn)
	}
	return out, nil
}
