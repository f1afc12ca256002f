// Package policy parses, validates and evaluates IAM-style JSON
// identity-based policies, the documents AWS IAM attaches to users, groups
// and roles, as Amazon Managed Service for Prometheus (AMP) uses them.
//
// Parse turns a document into a *Policy, rejecting whatever AWS IAM would
// reject as a MalformedPolicyDocument (the error, a *ParseError, says where:
// `Statement[1]: "Effect" must be "Allow" or "Deny", got "allow"`).
// Evaluate answers one Request against a set of policies with AWS's
// identity-policy logic: an explicit Deny in any applicable statement wins,
// otherwise an applicable Allow allows, otherwise the request is implicitly
// denied. Managed returns the built-in equivalents of the AWS managed
// policies a Prometheus user attaches (AmazonPrometheusFullAccess, ...).
//
// Supported: Version "2012-10-17" and "2008-10-17"; Action/NotAction with
// case-insensitive "*" and "?" wildcards; Resource/NotResource ARN patterns
// (case-sensitive globs); policy variables such as ${aws:username} (with
// defaults, ${aws:username, 'x'}, and the escapes ${*} ${?} ${$}) in
// resources and in String, Arn and Bool condition values; the condition
// operators of IAM (String*, Arn*, Numeric*, Date*, Bool, BinaryEquals,
// IpAddress, NotIpAddress, Null), with the IfExists suffix and the
// ForAnyValue:/ForAllValues: set qualifiers.
//
// Two deliberate leniencies keep the example policies of AMP's documentation
// working verbatim (see normalizeAction and normalizeResource): actions
// written with spaces after the colon ("aps: ListRules") or with ">" instead
// of ":" ("aps>DeleteRuleGroupsNamespace"), and the ARN resource type
// "rulegroupnamespace/" for "rulegroupsnamespace/". Parsed policies hold
// the normalized spelling, which (*Policy).String shows.
//
// A *Policy is immutable after Parse and safe for concurrent use.
package policy
