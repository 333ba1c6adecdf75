// Package provider talks to the PEC provider that creates the mailboxes (Aruba, Legalmail,
// Datakey, ...) and authenticates what it sends back. It knows nothing of AWS.
//
// # The provider contract
//
// Providers each have their own API; this is ours, and an adapter for a real provider is a small
// service (or a Provider implementation) that speaks it. Everything is JSON in UTF-8; every
// request carries "Authorization: Bearer <api key>".
//
// Submit, idempotent on requestId (the platform's mailbox id):
//
//	POST {base}/v1/mailboxes
//	Idempotency-Key: <requestId>
//	{"requestId": "...", "address": "...", "nome": "...", "cognome": "...", "codiceFiscale": "..."}
//
//	200, 201 or 202 {"providerRef": "..."}   accepted (again, for a repeated requestId: same providerRef)
//	408, 429, 5xx                            try again later (Retry-After is honoured, up to 30 s)
//	any other 4xx                            refused for good; the body may be
//	                                         {"error": {"code": "snake_case", "field": "..."}}
//
// The request holds what a PEC contract needs and nothing more: the holder's names and codice
// fiscale, and the address the platform composed. The provider must not log the codice fiscale
// nor echo it in errors.
//
// Deactivate, idempotent (closes the mailbox, or cancels a request not yet fulfilled):
//
//	POST {base}/v1/mailboxes/{requestId}/deactivate
//	{"address": "...", "reason": "..."}
//
//	200, 202 or 204   done or under way
//	404               the provider has no such mailbox: nothing to close, counts as done
//	other statuses    as for submit
//
// Renew, idempotent on the Idempotency-Key (extends the validity of a mailbox the provider
// created; a repeated key changes nothing):
//
//	POST {base}/v1/mailboxes/{requestId}/renew
//	Idempotency-Key: <renewalId>:<requestId>
//	{"renewalId": "...", "address": "...", "validUntil": "YYYY-MM-DD"}
//
//	200, 202 or 204   renewed (again, for a repeated key)
//	404               the provider has no such mailbox: refused for good
//	other statuses    as for submit
//
// The outcome arrives later, on the platform's callback (POST /v1/provider/callback):
//
//	X-Pec-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
//	{"eventId": "...", "type": "mailbox.created" | "mailbox.rejected" | "mailbox.deactivated",
//	 "address": "...", "providerRef": "...", "occurredAt": "RFC 3339", "reason": "..."}
//
// The platform answers 204 when it has the event (also for an eventId it already had), 401 for
// a bad signature or a timestamp more than 300 s away, 400 for a malformed body and 404 for an
// unknown address. The provider retries other failures with backoff; it may send several v1=
// values while the shared secret is being rotated. See [Sign], [Verify] and [ParseEvent].
package provider
