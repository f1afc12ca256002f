// Package snsnotify is Kansoku's Alertmanager notifier for sns_configs
// receivers. It publishes like upstream Alertmanager's notify/sns (same
// templating of topic_arn, phone_number, target_arn, subject, message,
// api_url and attributes; FIFO group and deduplication ids from the group
// key hash) and then applies Amazon Managed Service for Prometheus's
// message validation and truncation rules (see Sanitize), so tenants see
// the messages, "truncated"/"modified" attributes and workspace-log warnings
// that AMP produces.
//
// Differences from upstream:
//
//   - sigv4.region is required; sigv4.profile is rejected, because tenants
//     must not use the server's shared AWS profiles.
//   - Credentials: sigv4.access_key/secret_key, else the server's
//     Options.Credentials, else the SDK's default chain; sigv4.role_arn is
//     assumed through STS with those as source credentials.
//   - http_config and use_aws_http_client are ignored: all receivers share
//     Options.HTTPClient (AMP does not allow http_config either).
//   - The SDK does not retry: a failure is returned to Alertmanager's retry
//     stage, retryable for network errors, 5xx, 429 and AWS throttling codes.
//   - The message is truncated so that it fits together with its
//     attributes, since SNS counts attribute bytes in its 256 KiB limit.
package snsnotify
