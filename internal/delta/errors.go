package delta

// Reasons carried by the errors of this package (errs.Error.Reason). They are
// stable: API surfaces may put them on the wire.
const (
	// ReasonTableNotFound: the location has no _delta_log/ with a commit or
	// checkpoint in it (errs.NotFound).
	ReasonTableNotFound = "DELTA_TABLE_NOT_FOUND"
	// ReasonVersionNotFound: the requested version or timestamp is not in the
	// log (errs.NotFound).
	ReasonVersionNotFound = "DELTA_VERSION_NOT_FOUND"
	// ReasonVersionsNotContiguous: the log has a gap between versions
	// (errs.FailedPrecondition).
	ReasonVersionsNotContiguous = "DELTA_VERSIONS_NOT_CONTIGUOUS"
	// ReasonCorruptLog: a commit, checkpoint or _last_checkpoint file cannot be
	// parsed (errs.Invalid).
	ReasonCorruptLog = "DELTA_CORRUPT_LOG"
	// ReasonMissingMetadata: replay found no metaData action
	// (errs.FailedPrecondition).
	ReasonMissingMetadata = "DELTA_STATE_RECOVER_ERROR_METADATA"
	// ReasonMissingProtocol: replay found no protocol action
	// (errs.FailedPrecondition).
	ReasonMissingProtocol = "DELTA_STATE_RECOVER_ERROR_PROTOCOL"
	// ReasonUnsupportedReaderVersion: the table needs a reader version this
	// package does not implement (errs.Unimplemented).
	ReasonUnsupportedReaderVersion = "DELTA_INVALID_TABLE_VERSION"
	// ReasonUnsupportedFeature: the table needs a reader table feature this
	// package does not implement (errs.Unimplemented).
	ReasonUnsupportedFeature = "DELTA_UNSUPPORTED_FEATURES_FOR_READ"
	// ReasonInvalidSchema: the schemaString cannot be parsed (errs.Invalid).
	ReasonInvalidSchema = "DELTA_INVALID_SCHEMA"
	// ReasonCorruptData: a data file, CDC file or deletion vector cannot be
	// read (errs.Invalid).
	ReasonCorruptData = "DELTA_CORRUPT_DATA_FILE"
	// ReasonFileNotFound: a file named by the log is missing (errs.NotFound).
	ReasonFileNotFound = "DELTA_FILE_NOT_FOUND"
	// ReasonInvalidPredicate: a scan predicate does not fit the schema
	// (errs.Invalid).
	ReasonInvalidPredicate = "DELTA_INVALID_PREDICATE"
	// ReasonInvalidArgument: a bad argument to a read API (errs.Invalid).
	ReasonInvalidArgument = "DELTA_INVALID_ARGUMENT"
)
