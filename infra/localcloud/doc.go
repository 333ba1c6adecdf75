// Package localcloud is the Lambda side of the project's local cloud: what `sam local start-api`
// and `sam local start-lambda` would give, without containers, driven by template.yaml.
//
// A Host runs every function's real aws-lambda-go handler in-process, serves the HttpApi routes as
// API Gateway payload format 2.0 events (with the JWT authorizer's claims), serves the Lambda
// Invoke API that the Step Functions interpreter of moto calls, fires schedules, creates the
// template's tables and state machines on the emulators, and forwards every other AWS call to its
// emulator, so that one endpoint serves the functions, the workflow and the tests alike.
//
// Locally the JWT authorizer trusts one RSA key kept in a directory (see SignToken): the issuer
// and audiences come from the template as in AWS, but no OpenID discovery takes place.
package localcloud
