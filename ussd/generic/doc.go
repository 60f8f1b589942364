// Package generic speaks Guichet's own USSD dialect, for integrators whose
// gateway has none of the known formats: one JSON object per hop, one JSON
// object back.
//
// # Requests
//
// The gateway POSTs each hop to the operator's URL with Content-Type
// application/json, in UTF-8, and its credential in an x-api-key header (or
// "Authorization: Bearer", or basic auth). The body is an object:
//
//	session_id    string   required; the gateway's id of the dialogue, the
//	                       same on every hop (at most 128 characters)
//	phone         string   required; the caller, in E.164 (+237677123456)
//	                       or in national form
//	service_code  string   required on "begin": what the caller dialled, with
//	                       any shortcut (*123# or *123*4#)
//	input         string   the caller's latest input (at most 182
//	                       characters); ignored on "begin"
//	type          string   "begin", "continue" (the default), "end" (the
//	                       network closed the session), "abort" (the caller
//	                       hung up) or "timeout"
//	hop           integer  optional: the hop's number in the session; a
//	                       retried hop carries the same number, so that it is
//	                       not run twice
//	language      string   optional: "fr" or "en", the caller's language if
//	                       the network knows it
//
// Other fields are ignored.
//
// # Replies
//
// A hop is answered 200 with an object: the session id, the screen's text,
// and whether the session ends with it:
//
//	{"session_id": "...", "text": "...", "end": false}
//
// A request that cannot be served is answered with a 4xx status and an
// object naming the reason: 400 for a malformed body, a missing field or a
// bad number, 401 for a missing or wrong credential, 405 for a method other
// than POST, 413 for a body over 16 KiB, 415 for another media type:
//
//	{"error": "missing field phone"}
//
// # Example
//
// The caller dials *123*4#:
//
//	POST /ussd/acme HTTP/1.1
//	Content-Type: application/json
//	X-Api-Key: s3cret
//
//	{"session_id": "acme-7f3a9c", "phone": "+237677123456", "service_code": "*123*4#", "type": "begin", "hop": 1}
//
//	HTTP/1.1 200 OK
//	Content-Type: application/json; charset=utf-8
//
//	{"session_id":"acme-7f3a9c","text":"Suivi de dossier\nNumero du dossier?","end":false}
//
// The caller answers CM-0042:
//
//	{"session_id": "acme-7f3a9c", "phone": "+237677123456", "input": "CM-0042", "hop": 2}
//
//	{"session_id":"acme-7f3a9c","text":"Dossier CM-0042: pret au guichet de Yaounde 2.","end":true}
package generic
