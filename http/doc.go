// Package http is the REST/JSON API of geopulse: routing, authentication,
// request decoding, error mapping, metrics and the OpenAPI document.
//
// It is an adapter: handlers translate HTTP into calls on the root service
// interfaces (PlaceService, PostService, AnalyticsService, Ingester,
// WorkspaceService) and never reach a store or another adapter directly.
//
// Invariants:
//   - Every /v1 endpoint except /v1/openapi.json requires credentials: an API
//     key (Authorization: Bearer) or a dashboard session cookie, and with the
//     cookie every state-changing request must also carry the session's
//     X-CSRF-Token. The workspace they belong to is put in the request
//     context, and handlers scope
//     every call by that workspace alone. A workspace id is never read from the
//     request, so one customer can neither see nor change another's data.
//   - Errors leave through one function (Server.Error), which maps geopulse
//     error codes to statuses; internal errors are logged and answered with a
//     generic message so that no detail leaks.
//   - Batch endpoints (POST /v1/posts, POST /v1/places/import) answer every
//     item exactly once, in input order; a bad item never fails the batch.
//   - Logs never contain captions, coordinates, query strings or API keys:
//     location data is personal data.
//   - The route table (routes) is the single list of endpoints; the embedded
//     OpenAPI document is tested to describe exactly those routes.
package http
