package geopulse

import "io"

// Store is everything a storage backend provides. The embedded DuckDB store
// and the PostgreSQL store implement it, and both pass the storetest suite.
type Store interface {
	WorkspaceService
	PlaceStore
	PostService
	AnalyticsService
	LabelStore
	ComplianceStore
	RetentionStore
	AuditStore
	SubjectStore
	AudienceStore
	SettingsStore
	io.Closer
}
