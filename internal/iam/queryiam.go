package iam

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/iam/policy"
	"github.com/kansoku/kansoku/internal/metastore"
)

// The IAM query API's operations on users, access keys, roles, managed
// and inline policies, OIDC providers and simulation. Each is authorized
// as iam:<Action> on the narrowest ARN: the user, role, policy or
// provider it acts on (for a role that does not exist, the ARN it would
// have, so the answer does not tell an unauthorized caller whether it
// exists).

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

func tagsXML(m map[string]string) httpapi.Members[tagXML] {
	out := httpapi.Members[tagXML]{}
	for _, k := range sortedKeys(m) {
		out = append(out, tagXML{k, m[k]})
	}
	return out
}

type userXML struct {
	Path       string                   `xml:"Path"`
	UserName   string                   `xml:"UserName"`
	UserID     string                   `xml:"UserId"`
	Arn        string                   `xml:"Arn"`
	CreateDate string                   `xml:"CreateDate"`
	Tags       *httpapi.Members[tagXML] `xml:"Tags,omitempty"`
}

func toUserXML(p metastore.Principal, tags map[string]string) userXML {
	u := userXML{Path: "/", UserName: p.Name, UserID: p.ID, Arn: p.ARN, CreateDate: isoTime(p.CreatedAt)}
	if len(tags) > 0 {
		t := tagsXML(tags)
		u.Tags = &t
	}
	return u
}

type roleXML struct {
	Path                     string                   `xml:"Path"`
	RoleName                 string                   `xml:"RoleName"`
	RoleID                   string                   `xml:"RoleId"`
	Arn                      string                   `xml:"Arn"`
	CreateDate               string                   `xml:"CreateDate"`
	AssumeRolePolicyDocument string                   `xml:"AssumeRolePolicyDocument"`
	Description              string                   `xml:"Description,omitempty"`
	MaxSessionDuration       int64                    `xml:"MaxSessionDuration"`
	Tags                     *httpapi.Members[tagXML] `xml:"Tags,omitempty"`
}

func toRoleXML(r metastore.Role, tags map[string]string) roleXML {
	x := roleXML{Path: r.Path, RoleName: r.Name, RoleID: r.ID, Arn: r.ARN, CreateDate: isoTime(r.CreatedAt),
		AssumeRolePolicyDocument: encodeDoc(r.TrustPolicy), Description: r.Description, MaxSessionDuration: r.MaxSessionSeconds}
	if len(tags) > 0 {
		t := tagsXML(tags)
		x.Tags = &t
	}
	return x
}

type policyXML struct {
	PolicyName       string `xml:"PolicyName"`
	PolicyID         string `xml:"PolicyId"`
	Arn              string `xml:"Arn"`
	Path             string `xml:"Path"`
	DefaultVersionID string `xml:"DefaultVersionId"`
	AttachmentCount  int    `xml:"AttachmentCount"`
	IsAttachable     bool   `xml:"IsAttachable"`
	Description      string `xml:"Description,omitempty"`
	CreateDate       string `xml:"CreateDate,omitempty"`
	UpdateDate       string `xml:"UpdateDate,omitempty"`
}

func (s *Service) toPolicyXML(ctx context.Context, p PolicyInfo) policyXML {
	x := policyXML{PolicyName: p.Name, PolicyID: policyID(p.ARN), Arn: p.ARN, Path: "/", DefaultVersionID: "v1",
		AttachmentCount: p.AttachmentCount, IsAttachable: true, Description: p.Description}
	if !p.CreatedAt.IsZero() {
		x.CreateDate, x.UpdateDate = isoTime(p.CreatedAt), isoTime(p.UpdatedAt)
	}
	if stored, err := s.store.GetPolicy(ctx, p.ARN); err == nil {
		x.DefaultVersionID = stored.DefaultVersion
	}
	return x
}

type attachedXML struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

func attachedList(ps []PolicyInfo) any {
	out := httpapi.Members[attachedXML]{}
	for _, p := range ps {
		out = append(out, attachedXML{p.Name, p.ARN})
	}
	return struct {
		AttachedPolicies httpapi.Members[attachedXML] `xml:"AttachedPolicies"`
		IsTruncated      bool                         `xml:"IsTruncated"`
	}{out, false}
}

type versionXML struct {
	Document         string `xml:"Document,omitempty"`
	VersionID        string `xml:"VersionId"`
	IsDefaultVersion bool   `xml:"IsDefaultVersion"`
	CreateDate       string `xml:"CreateDate"`
}

func toVersionXML(v metastore.PolicyVersion, withDoc bool) versionXML {
	x := versionXML{VersionID: v.VersionID, IsDefaultVersion: v.IsDefault, CreateDate: isoTime(v.CreatedAt)}
	if withDoc {
		x.Document = encodeDoc(v.Document)
	}
	return x
}

// Resource functions.

// userARNParam: the user the form names, or the caller when it names none.
func userARNParam(s *Service, r *http.Request, f url.Values) ([]string, error) {
	return []string{s.UserARN(userParam(r, f))}, nil
}

func userParam(r *http.Request, f url.Values) string {
	if u := f.Get("UserName"); u != "" {
		return u
	}
	if id := httpapi.Identity(r); id != nil && !id.IsRoleSession() {
		return id.PrincipalName
	}
	return ""
}

// roleARNByName: the role's ARN (with its path), or the ARN it would have.
func roleARNByName(s *Service, r *http.Request, f url.Values) ([]string, error) {
	if err := required(f, "RoleName"); err != nil {
		return nil, err
	}
	if role, err := s.store.GetRoleByName(r.Context(), f.Get("RoleName")); err == nil {
		return []string{role.ARN}, nil
	}
	return []string{s.RoleARN("/", f.Get("RoleName"))}, nil
}

func policyARNParam(_ *Service, _ *http.Request, f url.Values) ([]string, error) {
	if err := required(f, "PolicyArn"); err != nil {
		return nil, err
	}
	return []string{f.Get("PolicyArn")}, nil
}

func providerARNParam(_ *Service, _ *http.Request, f url.Values) ([]string, error) {
	if err := required(f, "OpenIDConnectProviderArn"); err != nil {
		return nil, err
	}
	return []string{f.Get("OpenIDConnectProviderArn")}, nil
}

func fixed(arn func(s *Service) string) func(*Service, *http.Request, url.Values) ([]string, error) {
	return func(s *Service, _ *http.Request, _ url.Values) ([]string, error) { return []string{arn(s)}, nil }
}

// inlineOps are Put/Get/List/Delete<Kind>Policy for users or roles.
func inlineOps(ops map[string]queryOp, kind, prefix string, res func(*Service, *http.Request, url.Values) ([]string, error), owner func(r *http.Request, f url.Values) string) {
	ownerField := prefix + "Name"
	ops["Put"+prefix+"Policy"] = queryOp{service: "iam", resources: res, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
		if err := required(f, "PolicyName", "PolicyDocument"); err != nil {
			return nil, err
		}
		return nil, s.PutInlinePolicy(r.Context(), kind, owner(r, f), f.Get("PolicyName"), f.Get("PolicyDocument"))
	}}
	ops["Get"+prefix+"Policy"] = queryOp{service: "iam", resources: res, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
		p, err := s.InlinePolicy(r.Context(), kind, owner(r, f), f.Get("PolicyName"))
		if err != nil {
			return nil, err
		}
		out := map[string]string{ownerField: owner(r, f), "PolicyName": p.Name, "PolicyDocument": encodeDoc(p.Document)}
		return orderedXML{keys: []string{ownerField, "PolicyName", "PolicyDocument"}, values: out}, nil
	}}
	ops["List"+prefix+"Policies"] = queryOp{service: "iam", resources: res, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
		ps, err := s.InlinePolicies(r.Context(), kind, owner(r, f))
		if err != nil {
			return nil, err
		}
		names := httpapi.Members[string]{}
		for _, p := range ps {
			names = append(names, p.Name)
		}
		return struct {
			PolicyNames httpapi.Members[string] `xml:"PolicyNames"`
			IsTruncated bool                    `xml:"IsTruncated"`
		}{names, false}, nil
	}}
	ops["Delete"+prefix+"Policy"] = queryOp{service: "iam", resources: res, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
		return nil, s.DeleteInlinePolicy(r.Context(), kind, owner(r, f), f.Get("PolicyName"))
	}}
}

// orderedXML writes string elements in a given order.
type orderedXML struct {
	keys   []string
	values map[string]string
}

func (o orderedXML) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, k := range o.keys {
		if err := e.EncodeElement(o.values[k], xml.StartElement{Name: xml.Name{Local: k}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

func iamOps() map[string]queryOp {
	ops := map[string]queryOp{
		// Users.
		"CreateUser": {service: "iam", resources: userARNParam, tags: requestTags("Tags"), handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			if err := required(f, "UserName"); err != nil {
				return nil, err
			}
			tags := tagsOf(f, "Tags")
			if err := validateTags(tags, nil, MaxTags); err != nil {
				return nil, err
			}
			p, err := s.CreateUser(r.Context(), f.Get("UserName"))
			if err != nil {
				return nil, err
			}
			if len(tags) > 0 {
				if err := s.store.SetTags(r.Context(), p.ARN, tags); err != nil {
					return nil, err
				}
			}
			return struct {
				User userXML `xml:"User"`
			}{toUserXML(p, tags)}, nil
		}},
		"GetUser": {service: "iam", resources: userARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			p, err := s.User(r.Context(), userParam(r, f))
			if err != nil {
				return nil, err
			}
			tags, err := s.store.Tags(r.Context(), p.ARN)
			if err != nil {
				return nil, err
			}
			return struct {
				User userXML `xml:"User"`
			}{toUserXML(p, tags)}, nil
		}},
		"ListUsers": {service: "iam", resources: fixed(func(s *Service) string { return s.UserARN("*") }), handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			ps, err := s.Users(r.Context())
			if err != nil {
				return nil, err
			}
			out := httpapi.Members[userXML]{}
			for _, p := range ps {
				out = append(out, toUserXML(p, nil))
			}
			return struct {
				Users       httpapi.Members[userXML] `xml:"Users"`
				IsTruncated bool                     `xml:"IsTruncated"`
			}{out, false}, nil
		}},
		"DeleteUser": {service: "iam", resources: userARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			if err := required(f, "UserName"); err != nil {
				return nil, err
			}
			if id := httpapi.Identity(r); id != nil && !id.IsRoleSession() && id.PrincipalName == f.Get("UserName") {
				return nil, deleteConflict("refusing to delete the user making this request")
			}
			return nil, s.DeleteUser(r.Context(), f.Get("UserName"))
		}},
		"UpdateUser": {service: "iam", resources: userARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			if _, err := s.User(r.Context(), userParam(r, f)); err != nil {
				return nil, err
			}
			if n := f.Get("NewUserName"); n != "" && n != f.Get("UserName") {
				return nil, invalidInput("Kansoku does not rename users: create the new user and move the keys and policies")
			}
			if p := f.Get("NewPath"); p != "" && p != "/" {
				return nil, invalidInput("Kansoku users have the path /")
			}
			return nil, nil
		}},
		"TagUser": {service: "iam", resources: userARNParam, tags: requestTags("Tags"), handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			return nil, s.TagPrincipal(r.Context(), OwnerUser, userParam(r, f), tagsOf(f, "Tags"))
		}},
		"UntagUser": {service: "iam", resources: userARNParam, tags: tagKeys, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			return nil, s.UntagPrincipal(r.Context(), OwnerUser, userParam(r, f), members(f, "TagKeys", ""))
		}},
		"ListUserTags": {service: "iam", resources: userARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			t, err := s.PrincipalTags(r.Context(), OwnerUser, userParam(r, f))
			if err != nil {
				return nil, err
			}
			return struct {
				Tags        httpapi.Members[tagXML] `xml:"Tags"`
				IsTruncated bool                    `xml:"IsTruncated"`
			}{tagsXML(t), false}, nil
		}},

		// Access keys.
		"CreateAccessKey": {service: "iam", resources: userARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			k, err := s.CreateAccessKey(r.Context(), userParam(r, f))
			if err != nil {
				return nil, err
			}
			return struct {
				AccessKey struct {
					UserName        string `xml:"UserName"`
					AccessKeyID     string `xml:"AccessKeyId"`
					Status          string `xml:"Status"`
					SecretAccessKey string `xml:"SecretAccessKey"`
					CreateDate      string `xml:"CreateDate"`
				} `xml:"AccessKey"`
			}{struct {
				UserName        string `xml:"UserName"`
				AccessKeyID     string `xml:"AccessKeyId"`
				Status          string `xml:"Status"`
				SecretAccessKey string `xml:"SecretAccessKey"`
				CreateDate      string `xml:"CreateDate"`
			}{k.UserName, k.AccessKeyID, StatusActive, k.SecretAccessKey, isoTime(k.CreatedAt)}}, nil
		}},
		"ListAccessKeys": {service: "iam", resources: userARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			name := userParam(r, f)
			if name == "" {
				return nil, noSuchEntity("name a user (UserName): role sessions have no access keys")
			}
			keys, err := s.AccessKeys(r.Context(), name)
			if err != nil {
				return nil, err
			}
			type meta struct {
				UserName    string `xml:"UserName"`
				AccessKeyID string `xml:"AccessKeyId"`
				Status      string `xml:"Status"`
				CreateDate  string `xml:"CreateDate"`
			}
			out := httpapi.Members[meta]{}
			for _, k := range keys {
				out = append(out, meta{k.UserName, k.AccessKeyID, k.Status, isoTime(k.CreatedAt)})
			}
			return struct {
				AccessKeyMetadata httpapi.Members[meta] `xml:"AccessKeyMetadata"`
				IsTruncated       bool                  `xml:"IsTruncated"`
			}{out, false}, nil
		}},
		"UpdateAccessKey": {service: "iam", resources: keyOwnerARN, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			if err := required(f, "AccessKeyId", "Status"); err != nil {
				return nil, err
			}
			err := s.SetAccessKeyStatus(r.Context(), f.Get("AccessKeyId"), f.Get("Status"))
			if err != nil && !errors.Is(err, ErrNotFound) {
				return nil, stsValidation("%v", err)
			}
			return nil, err
		}},
		"DeleteAccessKey": {service: "iam", resources: keyOwnerARN, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			if err := required(f, "AccessKeyId"); err != nil {
				return nil, err
			}
			if id := httpapi.Identity(r); id != nil && id.AccessKeyID == f.Get("AccessKeyId") {
				return nil, deleteConflict("refusing to delete the access key that signed this request; use another key")
			}
			return nil, s.DeleteAccessKey(r.Context(), f.Get("AccessKeyId"))
		}},

		// Roles.
		"CreateRole": {service: "iam", tags: requestTags("Tags"), resources: func(s *Service, _ *http.Request, f url.Values) ([]string, error) {
			if err := required(f, "RoleName", "AssumeRolePolicyDocument"); err != nil {
				return nil, err
			}
			return []string{s.RoleARN(f.Get("Path"), f.Get("RoleName"))}, nil
		}, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			var maxSession int64
			if v := f.Get("MaxSessionDuration"); v != "" {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return nil, stsValidation("MaxSessionDuration must be a number of seconds")
				}
				maxSession = n
			}
			if f.Get("PermissionsBoundary") != "" {
				return nil, invalidInput("permissions boundaries are not supported by Kansoku")
			}
			role, err := s.CreateRole(r.Context(), CreateRoleInput{Name: f.Get("RoleName"), Path: f.Get("Path"), Description: f.Get("Description"),
				TrustPolicy: f.Get("AssumeRolePolicyDocument"), MaxSessionSeconds: maxSession, Tags: tagsOf(f, "Tags")})
			if err != nil {
				return nil, err
			}
			return struct {
				Role roleXML `xml:"Role"`
			}{toRoleXML(role, tagsOf(f, "Tags"))}, nil
		}},
		"GetRole": {service: "iam", resources: roleARNByName, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			role, err := s.Role(r.Context(), f.Get("RoleName"))
			if err != nil {
				return nil, err
			}
			tags, err := s.store.Tags(r.Context(), role.ARN)
			if err != nil {
				return nil, err
			}
			return struct {
				Role roleXML `xml:"Role"`
			}{toRoleXML(role, tags)}, nil
		}},
		"ListRoles": {service: "iam", resources: fixed(func(s *Service) string { return s.RoleARN("/", "*") }), handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			roles, err := s.Roles(r.Context())
			if err != nil {
				return nil, err
			}
			out := httpapi.Members[roleXML]{}
			for _, role := range roles {
				out = append(out, toRoleXML(role, nil))
			}
			return struct {
				Roles       httpapi.Members[roleXML] `xml:"Roles"`
				IsTruncated bool                     `xml:"IsTruncated"`
			}{out, false}, nil
		}},
		"UpdateRole": {service: "iam", resources: roleARNByName, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			var desc *string
			if _, ok := f["Description"]; ok {
				d := f.Get("Description")
				desc = &d
			}
			var maxSession *int64
			if v := f.Get("MaxSessionDuration"); v != "" {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return nil, stsValidation("MaxSessionDuration must be a number of seconds")
				}
				maxSession = &n
			}
			return struct{}{}, s.UpdateRole(r.Context(), f.Get("RoleName"), desc, maxSession)
		}},
		"UpdateAssumeRolePolicy": {service: "iam", resources: roleARNByName, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			if err := required(f, "PolicyDocument"); err != nil {
				return nil, err
			}
			return nil, s.UpdateAssumeRolePolicy(r.Context(), f.Get("RoleName"), f.Get("PolicyDocument"))
		}},
		"DeleteRole": {service: "iam", resources: roleARNByName, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			return nil, s.DeleteRole(r.Context(), f.Get("RoleName"))
		}},
		"TagRole": {service: "iam", resources: roleARNByName, tags: requestTags("Tags"), handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			return nil, s.TagPrincipal(r.Context(), OwnerRole, f.Get("RoleName"), tagsOf(f, "Tags"))
		}},
		"UntagRole": {service: "iam", resources: roleARNByName, tags: tagKeys, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			return nil, s.UntagPrincipal(r.Context(), OwnerRole, f.Get("RoleName"), members(f, "TagKeys", ""))
		}},
		// Kansoku has no instance profiles; tools that clean up a role
		// (Terraform) list them before DeleteRole.
		"ListInstanceProfilesForRole": {service: "iam", resources: roleARNByName, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			if _, err := s.Role(r.Context(), f.Get("RoleName")); err != nil {
				return nil, err
			}
			return struct {
				InstanceProfiles httpapi.Members[string] `xml:"InstanceProfiles"`
				IsTruncated      bool                    `xml:"IsTruncated"`
			}{httpapi.Members[string]{}, false}, nil
		}},
		"ListRoleTags": {service: "iam", resources: roleARNByName, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			t, err := s.PrincipalTags(r.Context(), OwnerRole, f.Get("RoleName"))
			if err != nil {
				return nil, err
			}
			return struct {
				Tags        httpapi.Members[tagXML] `xml:"Tags"`
				IsTruncated bool                    `xml:"IsTruncated"`
			}{tagsXML(t), false}, nil
		}},
		"AttachRolePolicy": {service: "iam", resources: roleARNByName, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			if err := required(f, "PolicyArn"); err != nil {
				return nil, err
			}
			return nil, s.AttachRolePolicy(r.Context(), f.Get("RoleName"), f.Get("PolicyArn"))
		}},
		"DetachRolePolicy": {service: "iam", resources: roleARNByName, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			return nil, s.DetachRolePolicy(r.Context(), f.Get("RoleName"), f.Get("PolicyArn"))
		}},
		"ListAttachedRolePolicies": {service: "iam", resources: roleARNByName, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			ps, err := s.AttachedRolePolicies(r.Context(), f.Get("RoleName"))
			if err != nil {
				return nil, err
			}
			return attachedList(ps), nil
		}},
		"AttachUserPolicy": {service: "iam", resources: userARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			if err := required(f, "UserName", "PolicyArn"); err != nil {
				return nil, err
			}
			if _, err := s.Policy(r.Context(), f.Get("PolicyArn")); err != nil {
				return nil, noSuchEntity("Policy %s does not exist or is not attachable.", f.Get("PolicyArn"))
			}
			return nil, s.AttachUserPolicy(r.Context(), f.Get("UserName"), f.Get("PolicyArn"))
		}},
		"DetachUserPolicy": {service: "iam", resources: userARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			return nil, s.DetachUserPolicy(r.Context(), f.Get("UserName"), f.Get("PolicyArn"))
		}},
		"ListAttachedUserPolicies": {service: "iam", resources: userARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			ps, err := s.AttachedUserPolicies(r.Context(), userParam(r, f))
			if err != nil {
				return nil, err
			}
			return attachedList(ps), nil
		}},

		// Managed policies and their versions.
		"CreatePolicy": {service: "iam", resources: func(s *Service, _ *http.Request, f url.Values) ([]string, error) {
			if err := required(f, "PolicyName", "PolicyDocument"); err != nil {
				return nil, err
			}
			return []string{s.PolicyARN(f.Get("PolicyName"))}, nil
		}, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			if p := f.Get("Path"); p != "" && p != "/" {
				return nil, invalidInput("Kansoku's customer policies have the path /")
			}
			p, err := s.CreatePolicy(r.Context(), f.Get("PolicyName"), f.Get("Description"), f.Get("PolicyDocument"))
			if err != nil {
				return nil, err
			}
			return struct {
				Policy policyXML `xml:"Policy"`
			}{s.toPolicyXML(r.Context(), p)}, nil
		}},
		"GetPolicy": {service: "iam", resources: policyARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			p, err := s.Policy(r.Context(), f.Get("PolicyArn"))
			if err != nil {
				return nil, err
			}
			return struct {
				Policy policyXML `xml:"Policy"`
			}{s.toPolicyXML(r.Context(), p)}, nil
		}},
		"ListPolicies": {service: "iam", resources: fixed(func(s *Service) string { return s.PolicyARN("*") }), handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			ps, err := s.Policies(r.Context())
			if err != nil {
				return nil, err
			}
			scope := f.Get("Scope") // All, AWS, Local
			out := httpapi.Members[policyXML]{}
			for _, p := range ps {
				if (scope == "Local" && p.AWSManaged) || (scope == "AWS" && !p.AWSManaged) || (f.Get("OnlyAttached") == "true" && p.AttachmentCount == 0) {
					continue
				}
				out = append(out, s.toPolicyXML(r.Context(), p))
			}
			return struct {
				Policies    httpapi.Members[policyXML] `xml:"Policies"`
				IsTruncated bool                       `xml:"IsTruncated"`
			}{out, false}, nil
		}},
		"DeletePolicy": {service: "iam", resources: policyARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			err := s.DeletePolicy(r.Context(), f.Get("PolicyArn"))
			if errors.Is(err, ErrInUse) {
				return nil, deleteConflict("Cannot delete a policy attached to entities.")
			}
			return nil, err
		}},
		"CreatePolicyVersion": {service: "iam", resources: policyARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			if err := required(f, "PolicyDocument"); err != nil {
				return nil, err
			}
			id, err := s.CreatePolicyVersion(r.Context(), f.Get("PolicyArn"), f.Get("PolicyDocument"), f.Get("SetAsDefault") == "true")
			if err != nil {
				return nil, err
			}
			v, err := s.PolicyVersion(r.Context(), f.Get("PolicyArn"), id)
			if err != nil {
				return nil, err
			}
			return struct {
				PolicyVersion versionXML `xml:"PolicyVersion"`
			}{toVersionXML(v, false)}, nil
		}},
		"GetPolicyVersion": {service: "iam", resources: policyARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			v, err := s.PolicyVersion(r.Context(), f.Get("PolicyArn"), f.Get("VersionId"))
			if err != nil {
				return nil, err
			}
			return struct {
				PolicyVersion versionXML `xml:"PolicyVersion"`
			}{toVersionXML(v, true)}, nil
		}},
		"ListPolicyVersions": {service: "iam", resources: policyARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			vs, err := s.PolicyVersions(r.Context(), f.Get("PolicyArn"))
			if err != nil {
				return nil, err
			}
			out := httpapi.Members[versionXML]{}
			for _, v := range vs {
				out = append(out, toVersionXML(v, false))
			}
			return struct {
				Versions    httpapi.Members[versionXML] `xml:"Versions"`
				IsTruncated bool                        `xml:"IsTruncated"`
			}{out, false}, nil
		}},
		"DeletePolicyVersion": {service: "iam", resources: policyARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			return nil, s.DeletePolicyVersion(r.Context(), f.Get("PolicyArn"), f.Get("VersionId"))
		}},
		"SetDefaultPolicyVersion": {service: "iam", resources: policyARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			return nil, s.SetDefaultPolicyVersion(r.Context(), f.Get("PolicyArn"), f.Get("VersionId"))
		}},

		// OIDC providers.
		"CreateOpenIDConnectProvider": {service: "iam", tags: requestTags("Tags"), resources: func(s *Service, _ *http.Request, f url.Values) ([]string, error) {
			if err := required(f, "Url"); err != nil {
				return nil, err
			}
			return []string{s.OIDCProviderARN(f.Get("Url"))}, nil
		}, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			p, err := s.CreateOIDCProvider(r.Context(), CreateOIDCProviderInput{URL: f.Get("Url"), ClientIDs: members(f, "ClientIDList", ""),
				Thumbprints: members(f, "ThumbprintList", ""), Tags: tagsOf(f, "Tags")})
			if err != nil {
				return nil, err
			}
			return struct {
				Arn  string                  `xml:"OpenIDConnectProviderArn"`
				Tags httpapi.Members[tagXML] `xml:"Tags"`
			}{p.ARN, tagsXML(tagsOf(f, "Tags"))}, nil
		}},
		"GetOpenIDConnectProvider": {service: "iam", resources: providerARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			p, err := s.OIDCProvider(r.Context(), f.Get("OpenIDConnectProviderArn"))
			if err != nil {
				return nil, err
			}
			tags, err := s.store.Tags(r.Context(), p.ARN)
			if err != nil {
				return nil, err
			}
			return struct {
				URL            string                  `xml:"Url"`
				ClientIDList   httpapi.Members[string] `xml:"ClientIDList"`
				ThumbprintList httpapi.Members[string] `xml:"ThumbprintList"`
				CreateDate     string                  `xml:"CreateDate"`
				Tags           httpapi.Members[tagXML] `xml:"Tags"`
			}{providerHost(p.URL), p.ClientIDs, p.Thumbprints, isoTime(p.CreatedAt), tagsXML(tags)}, nil
		}},
		"ListOpenIDConnectProviders": {service: "iam", resources: fixed(func(s *Service) string { return "*" }), handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			ps, err := s.OIDCProviders(r.Context())
			if err != nil {
				return nil, err
			}
			type entry struct {
				Arn string `xml:"Arn"`
			}
			out := httpapi.Members[entry]{}
			for _, p := range ps {
				out = append(out, entry{p.ARN})
			}
			return struct {
				List httpapi.Members[entry] `xml:"OpenIDConnectProviderList"`
			}{out}, nil
		}},
		"DeleteOpenIDConnectProvider": {service: "iam", resources: providerARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			return nil, s.DeleteOIDCProvider(r.Context(), f.Get("OpenIDConnectProviderArn"))
		}},
		"AddClientIDToOpenIDConnectProvider": {service: "iam", resources: providerARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			if err := required(f, "ClientID"); err != nil {
				return nil, err
			}
			id := f.Get("ClientID")
			return nil, s.UpdateOIDCProvider(r.Context(), f.Get("OpenIDConnectProviderArn"), func(p *metastore.OIDCProvider) {
				if !contains(p.ClientIDs, id) {
					p.ClientIDs = append(p.ClientIDs, id)
				}
			})
		}},
		"RemoveClientIDFromOpenIDConnectProvider": {service: "iam", resources: providerARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			id := f.Get("ClientID")
			return nil, s.UpdateOIDCProvider(r.Context(), f.Get("OpenIDConnectProviderArn"), func(p *metastore.OIDCProvider) {
				kept := []string{}
				for _, c := range p.ClientIDs {
					if c != id {
						kept = append(kept, c)
					}
				}
				p.ClientIDs = kept
			})
		}},
		"UpdateOpenIDConnectProviderThumbprint": {service: "iam", resources: providerARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			tps := members(f, "ThumbprintList", "")
			return nil, s.UpdateOIDCProvider(r.Context(), f.Get("OpenIDConnectProviderArn"), func(p *metastore.OIDCProvider) { p.Thumbprints = tps })
		}},

		// Simulation.
		"SimulatePrincipalPolicy": {service: "iam", resources: func(_ *Service, _ *http.Request, f url.Values) ([]string, error) {
			if err := required(f, "PolicySourceArn"); err != nil {
				return nil, err
			}
			return []string{f.Get("PolicySourceArn")}, nil
		}, handle: simulatePrincipalPolicy},
	}
	inlineOps(ops, OwnerUser, "User", userARNParam, userParam)
	inlineOps(ops, OwnerRole, "Role", roleARNByName, func(_ *http.Request, f url.Values) string { return f.Get("RoleName") })
	return ops
}

// keyOwnerARN authorizes an access key operation on the key's owner (the
// caller's own ARN when the key does not exist, so nothing leaks).
func keyOwnerARN(s *Service, r *http.Request, f url.Values) ([]string, error) {
	if name, err := s.KeyOwner(r.Context(), f.Get("AccessKeyId")); err == nil {
		return []string{s.UserARN(name)}, nil
	}
	return []string{s.UserARN(userParam(r, f))}, nil
}

func simulatePrincipalPolicy(s *Service, r *http.Request, f url.Values) (any, error) {
	src := f.Get("PolicySourceArn")
	var id *auth.Identity
	if name, ok := s.roleNameFromARN(src); ok {
		role, err := s.Role(r.Context(), name)
		if err != nil {
			return nil, err
		}
		id = &auth.Identity{AccountID: s.accountID, PrincipalID: role.ID + ":simulation", PrincipalARN: s.assumedRoleARN(role.Name, "simulation"),
			Type: auth.TypeAssumedRole, Session: &auth.Session{RoleID: role.ID, RoleName: role.Name, RoleARN: role.ARN, SessionName: "simulation", IssuedAt: s.now()}}
	} else {
		name, ok := strings.CutPrefix(src, "arn:aws:iam::"+s.accountID+":user/")
		if !ok {
			return nil, invalidInput("PolicySourceArn must be a user or role of this account")
		}
		var err error
		if id, err = s.userIdentity(r.Context(), name); err != nil {
			return nil, err
		}
	}
	actions := members(f, "ActionNames", "")
	if len(actions) == 0 {
		return nil, stsValidation("ActionNames must name at least one action")
	}
	resources := members(f, "ResourceArns", "")
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	extra := map[string][]string{}
	for i, k := range members(f, "ContextEntries", "ContextKeyName") {
		extra[k] = members(f, "ContextEntries.member."+strconv.Itoa(i+1)+".ContextKeyValues", "")
	}
	type stmt struct {
		SourcePolicyID string `xml:"SourcePolicyId"`
	}
	type result struct {
		EvalActionName    string                `xml:"EvalActionName"`
		EvalResourceName  string                `xml:"EvalResourceName"`
		EvalDecision      string                `xml:"EvalDecision"`
		MatchedStatements httpapi.Members[stmt] `xml:"MatchedStatements"`
	}
	out := httpapi.Members[result]{}
	sort.Strings(actions)
	for _, a := range actions {
		for _, res := range resources {
			v, err := s.decide(r.Context(), id, a, res, extra)
			if err != nil {
				return nil, err
			}
			decision := map[policy.Effect]string{policy.Allow: "allowed", policy.ExplicitDeny: "explicitDeny", policy.ImplicitDeny: "implicitDeny"}[v.Effect]
			m := httpapi.Members[stmt]{}
			if v.PolicyName != "" {
				m = append(m, stmt{v.PolicyName})
			}
			out = append(out, result{a, res, decision, m})
		}
	}
	return struct {
		EvaluationResults httpapi.Members[result] `xml:"EvaluationResults"`
		IsTruncated       bool                    `xml:"IsTruncated"`
	}{out, false}, nil
}
