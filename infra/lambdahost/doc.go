// Package lambdahost is the Lambda side of the project's local cloud: what `sam local start-api`
// and `sam local start-lambda` would give, without containers, driven by template.yaml.
//
// A Host runs every function's real aws-lambda-go handler in-process, serves the HttpApi routes as
// API Gateway payload format 2.0 events (with the JWT authorizer's claims), serves the Lambda
// Invoke API that the Step Functions interpreter of moto calls, fires schedules, creates the
// template's tables, state machines and S3 buckets on the emulators, and forwards every other AWS
// call to its emulator, so that one endpoint serves the functions, the workflow and the tests alike.
//
// S3 runs on moto. Setup creates the template's buckets (named by BucketName, else
// "<stack>-<logicalid>" in lower case, which is also what !Ref resolves to) with their default
// encryption, versioning and lifecycle rules. Clients must address buckets path-style (http://host/bucket/key,
// UsePathStyle in the SDK; pre-signed URLs made that way too): virtual-hosted-style requests
// (bucket.host) are forwarded but raise no events, and are not supported locally. moto cannot invoke functions on its own (it would need
// Docker), so the host raises the functions' S3 events itself: it sees every PutObject,
// CopyObject and CompleteMultipartUpload it forwards, and when moto accepts one in a bucket with
// matching events (event type, prefix and suffix filters) it invokes the function asynchronously
// with an events.S3Event, retried twice on failure as Lambda does. Only ObjectCreated events are
// raised (not deletions or lifecycle expirations); WaitIdle waits for them. Browsers' POST Object
// uploads are served by the host itself, which enforces their signed policy as S3 does (a form
// field no condition names is refused). Bodies are streamed through the host, never held in
// memory. moto does not check signatures, pre-signed URLs' included.
//
// EventBridge: every function's EventBridgeRule event is a rule with its resolved Pattern,
// matched by EventBridge's content filtering (exact values, prefix, suffix, anything-but,
// exists, equals-ignore-case, wildcard, numeric, cidr, $or). The host raises the events of the
// services it emulates and delivers each to every rule that matches, asynchronously: S3's
// Object Created (PutObject, PostObject, CopyObject, CompleteMultipartUpload) and Object
// Deleted (DeleteObject) for buckets with NotificationConfiguration.EventBridgeConfiguration.
// EventBridgeEnabled, and SES's bounce and complaint for the mailbox simulator's addresses.
// Rules on other sources or buses are logged once and never fire.
//
// A Faults injector (Options.Faults) makes a share of the forwarded AWS calls and of the Lambda
// Invoke API fail as each service fails (its throttling error or a 5xx, in its wire format),
// before the emulator or with the emulator's answer lost, or holds them for a while; the draw
// is seeded, and GET /_local/faults shows the rules and counters (PUT changes the rules).
//
// Locally the JWT authorizer trusts one RSA key kept in a directory (see SignToken): the issuer
// and audiences come from the template as in AWS, but no OpenID discovery takes place.
package lambdahost
